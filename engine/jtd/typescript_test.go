package jtd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ducktail/ducktail/internal/sharedtest"
)

func TestTSIdentifier(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"click", "Click"},
		{"page-view", "PageView"},
		{"text/plain", "TextPlain"},
		{"3d", "T3d"},
		{"٣d", "T٣d"}, // an Arabic-Indic digit cannot start an identifier either
		{"été", "Été"},
		{"/", "Event"},
	} {
		if got := TSIdentifier(c.in); got != c.want {
			t.Errorf("TSIdentifier(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTypeScriptStrings(t *testing.T) {
	s, err := Parse([]byte(`{"properties": {"k\u0007\u2028": {"enum": ["a\"b", "\u0000", "\udb40\udc01", "<&>"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := TypeScript("x", s)
	want := `export interface X { "k\u0007\u2028": "a\"b" | "\u0000" | "` + "\U000E0001" + `" | "<&>" }` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// tsCases are schemas whose TypeScript once did not compile or could go
// wrong: definitions named after the global types the output could use,
// recursion, unions inside arrays, keys that need quotes.
var tsCases = map[string]string{
	"array": `{"definitions": {"array": {"elements": {"type": "string"}}, "record": {"values": {"ref": "array"}}},
		"properties": {"a": {"ref": "array"}, "r": {"ref": "record"}, "l": {"elements": {"enum": ["x", "y"]}},
		"m": {"values": {"type": "int8", "nullable": true}}, "n": {"elements": {"elements": {"type": "uint8", "nullable": true}}}}}`,
	"record": `{"values": {"ref": "string"}, "definitions": {"string": {"type": "string"}, "number": {"type": "boolean"}}}`,
	"tree": `{"definitions": {"node": {"properties": {"kids": {"elements": {"ref": "node"}}, "up": {"ref": "node", "nullable": true}}}},
		"ref": "node"}`,
	"shapes": `{"discriminator": "kind", "mapping": {"circle": {"properties": {"r": {"type": "float64"}}},
		"rect-angle": {"properties": {"w": {"type": "float32"}}, "additionalProperties": true}}}`,
	"keys": `{"properties": {"123": {}, "with space": {"type": "timestamp"}, "$ok_": {"type": "string"}, "é": {"type": "int32"}},
		"optionalProperties": {"\"q\"": {"elements": {"discriminator": "t", "mapping": {"a": {"properties": {}}}, "nullable": true}}}}`,
	"3d": `{"definitions": {"٣": {"type": "string"}, "3": {"ref": "٣"}, "T3": {"ref": "3"}}, "ref": "T3"}`,
}

// TestTypeScriptCompiles runs the TypeScript compiler (clients/js's pinned
// devDependency, which .ci/run installs) over the declarations of tsCases
// and of every schema in the RFC 8927 vectors.
func TestTypeScriptCompiles(t *testing.T) {
	tsc, err := filepath.Abs(filepath.Join("..", "..", "clients", "js", "node_modules", "typescript", "bin", "tsc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tsc); err != nil {
		t.Skipf("no TypeScript compiler at %s (run npm ci --prefix clients/js): skipping", tsc)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping")
	}
	schemas := map[string]string{}
	for name, src := range tsCases {
		schemas["case-"+name] = src
	}
	if dir, ok := sharedtest.Find(); ok {
		data, err := os.ReadFile(filepath.Join(dir, "testdata", "jtd", "validation.json"))
		if err != nil {
			t.Fatal(err)
		}
		var cases map[string]vectorCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for name, c := range cases {
			if !seen[string(c.Schema)] {
				seen[string(c.Schema)] = true
				schemas["vector-"+name] = string(c.Schema)
			}
		}
	} else {
		t.Log("../shared is not beside the repository: compiling tsCases only")
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)

	dir := t.TempDir()
	files := make([]string, 0, len(names))
	for i, n := range names {
		s, err := Parse([]byte(schemas[n]))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		ts := TypeScript(strings.TrimPrefix(strings.TrimPrefix(n, "case-"), "vector-"), s)
		if strings.Contains(ts, "Array<") || strings.Contains(ts, "Record<") {
			t.Errorf("%s: the output names a global type a definition may shadow:\n%s", n, ts)
		}
		f := filepath.Join(dir, fmt.Sprintf("s%03d.ts", i))
		if err := os.WriteFile(f, []byte("// "+strings.ReplaceAll(n, "\n", " ")+"\n"+ts), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	args := append([]string{tsc, "--noEmit", "--strict", "--isolatedModules", "--moduleDetection", "force", "--target", "es2022"}, files...)
	out, err := exec.Command(node, args...).CombinedOutput()
	if err != nil {
		var bad strings.Builder
		for _, f := range files {
			if strings.Contains(string(out), filepath.Base(f)) {
				b, _ := os.ReadFile(f)
				fmt.Fprintf(&bad, "%s:\n%s\n", filepath.Base(f), b)
			}
		}
		t.Fatalf("tsc over %d schemas' declarations: %v\n%s\n%s", len(files), err, out, bad.String())
	}
	t.Logf("tsc compiled the declarations of %d schemas", len(files))
}
