package configdiff

import "testing"

// BenchmarkParseJSON is one 2 MB schema, the unit the parser's budget is
// stated in (the /parse sub-benchmark of BenchmarkSchemaDiff2MB reads two).
func BenchmarkParseJSON(b *testing.B) {
	data := genSchema(2<<20, false)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseJSON("schema.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
