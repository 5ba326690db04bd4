package jtd

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TypeScript renders the schema as TypeScript declarations (for GET
// /{account}/{stream}:{type}.ts): the root as `export interface Name` when it
// is of the properties form (else `export type Name =`), and each definition
// as its own exported type. Timestamps are strings (RFC 3339), every number
// type is number, an enum is a union of string literals, a discriminator a
// union of object types carrying their tag, nullable adds `| null`, the empty
// form is unknown, and additionalProperties adds an index signature.
func TypeScript(name string, s *Schema) string {
	g := tsGen{defNames: map[string]string{}}
	root := TSIdentifier(name)
	used := map[string]bool{root: true}
	defs := make([]string, 0, len(s.root.definitions))
	for d := range s.root.definitions {
		defs = append(defs, d)
	}
	sort.Strings(defs)
	for _, d := range defs {
		id := TSIdentifier(d)
		for used[id] {
			id += "Def"
		}
		used[id] = true
		g.defNames[d] = id
	}
	var b strings.Builder
	g.decl(&b, root, s)
	for _, d := range defs {
		b.WriteByte('\n')
		g.decl(&b, g.defNames[d], s.root.definitions[d])
	}
	return b.String()
}

// TSIdentifier makes a type name a TypeScript identifier in PascalCase:
// "click" → "Click", "page-view" → "PageView", "text/plain" → "TextPlain".
func TSIdentifier(name string) string {
	var b strings.Builder
	upper := true
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '$') {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	id := b.String()
	if id == "" {
		return "Event"
	}
	if r, _ := utf8.DecodeRuneInString(id); unicode.IsDigit(r) {
		id = "T" + id
	}
	return id
}

type tsGen struct {
	defNames map[string]string // definition name → identifier
}

func (g *tsGen) decl(b *strings.Builder, id string, s *Schema) {
	if s.form == FormProperties && !s.nullable {
		b.WriteString("export interface " + id + " ")
		b.WriteString(g.object(s, "", ""))
		b.WriteByte('\n')
		return
	}
	b.WriteString("export type " + id + " = " + g.typ(s) + ";\n")
}

// typ renders a schema as a type expression.
func (g *tsGen) typ(s *Schema) string {
	t := g.bare(s)
	if s.nullable && t != "unknown" {
		return t + " | null"
	}
	return t
}

func (g *tsGen) bare(s *Schema) string {
	switch s.form {
	case FormRef:
		return g.defNames[s.ref]
	case FormType:
		switch s.typ {
		case TypeBoolean:
			return "boolean"
		case TypeString, TypeTimestamp:
			return "string"
		}
		return "number"
	case FormEnum:
		parts := make([]string, len(s.enum))
		for i, v := range s.enum {
			parts[i] = tsString(v)
		}
		return strings.Join(parts, " | ")
	case FormElements:
		// Neither Array<T> nor Record<string, T>: a definition may be
		// named Array or Record, and its declaration would shadow the
		// global one.
		e := g.typ(s.elements)
		if strings.Contains(e, "|") { // a union, or an object holding one: parentheses never hurt

			return "(" + e + ")[]"
		}
		return e + "[]"
	case FormValues:
		return "{ [key: string]: " + g.typ(s.elements) + " }"
	case FormProperties:
		return g.object(s, "", "")
	case FormDiscriminator:
		vals := make([]string, 0, len(s.mapping))
		for v := range s.mapping {
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			return "never" // no instance is valid against an empty mapping
		}
		sort.Strings(vals)
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = g.object(s.mapping[v], s.tag, v)
		}
		return strings.Join(parts, " | ")
	}
	return "unknown"
}

// object renders a properties-form schema as an object type; a non-empty
// tag adds the discriminator's property first.
func (g *tsGen) object(s *Schema, tag, value string) string {
	var parts []string
	if tag != "" {
		parts = append(parts, tsKey(tag)+": "+tsString(value))
	}
	for _, n := range s.propNames {
		parts = append(parts, tsKey(n)+": "+g.typ(s.properties[n]))
	}
	for _, n := range s.optNames {
		parts = append(parts, tsKey(n)+"?: "+g.typ(s.optional[n]))
	}
	if s.additional {
		parts = append(parts, "[key: string]: unknown")
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(parts, "; ") + " }"
}

// tsKey writes a property name bare when it is an identifier, else quoted.
func tsKey(n string) string {
	for i, r := range n {
		if !(unicode.IsLetter(r) || r == '_' || r == '$' || (i > 0 && unicode.IsDigit(r))) {
			return tsString(n)
		}
	}
	if n == "" {
		return `""`
	}
	return n
}

// tsString writes s as a TypeScript string literal. JSON's string syntax is
// a subset of JavaScript's; Go's strconv.Quote is not (its \a and
// \U0001F600 escapes mean "a" and "U0001F600" there).
func tsString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes; invalid UTF-8 becomes U+FFFD
	return strings.TrimSuffix(b.String(), "\n")
}
