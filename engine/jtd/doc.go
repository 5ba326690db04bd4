// Package jtd is ducktail's JSON Type Definition (RFC 8927) validator: the
// schema language that event types use (SPEC 4.2, `PUT /{account}/{stream}:{type}`).
//
// Parse checks a schema against the RFC's rules for a "correct" schema (known
// keywords only, exactly one form, refs that resolve, definitions only at the
// root, non-empty duplicate-free enums, discriminator mappings of the
// properties form that are not nullable and do not redefine the tag, disjoint
// properties and optionalProperties, the RFC's type names) and returns an
// immutable *Schema. Validate evaluates an instance as RFC 8927 section 3.3
// describes and returns the standard error indicators: pairs of JSON Pointer
// token lists (instancePath, schemaPath). The output is exact on the official
// test vectors (jsontypedef/json-typedef-spec tests/validation.json and
// tests/invalid_schemas.json).
//
// Numbers are judged on their exact decimal value when the instance holds
// json.Number (ValidateJSON always decodes that way): 1.0 and 1e2 are
// integers, 1.5 and 4294967296 are not uint32; float32 and float64 accept any
// number. Timestamps are RFC 3339 date-times, leap seconds (":60") included.
//
// Concurrency: a *Schema is immutable after Parse and safe for concurrent use
// by any number of goroutines; Validate keeps its state on the stack of the
// call. There is no package-level mutable state.
//
// Imports: the standard library and ducktail/base only.
package jtd
