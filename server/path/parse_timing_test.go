package path

import "testing"

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, path string }{
		{"plain", "/acct/strm"},
		{"full", "/acct/strm('arg'):click[2].slice(2,38).eventType('click')"},
		{"encoded", "/acct/strm%28%27arg%27%29:click%5B2%5D.slice(2,%2038)"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.path)))
			for b.Loop() {
				if _, err := Parse(bc.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
