package configdiff

import (
	"fmt"
	"strings"
	"testing"
)

// genSchema writes a JSON schema of about size bytes: root properties that
// $ref object definitions of 20 properties each, some nested, some with
// arrays of a shared definition. With changed, every 50th definition loses
// a property, lowers a maxLength and narrows a type.
func genSchema(size int, changed bool) []byte {
	var b strings.Builder
	b.WriteString("{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n  \"type\": \"object\",\n  \"properties\": {\n")
	n := size / 1400
	for i := range n {
		fmt.Fprintf(&b, "    \"section_%d\": {\"$ref\": \"#/$defs/def_%d\"},\n", i, i)
	}
	b.WriteString("    \"version\": {\"type\": \"integer\"}\n  },\n  \"$defs\": {\n")
	b.WriteString("    \"leaf\": {\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"string\"}}},\n")
	for i := range n {
		c := changed && i%50 == 0
		fmt.Fprintf(&b, "    \"def_%d\": {\n      \"type\": \"object\",\n      \"additionalProperties\": false,\n      \"required\": [\"key_0\"],\n      \"properties\": {\n", i)
		for k := range 20 {
			if c && k == 3 {
				continue
			}
			sep := ","
			if k == 19 {
				sep = ""
			}
			switch {
			case k%5 == 0:
				fmt.Fprintf(&b, "        \"key_%d\": {\"type\": \"object\", \"properties\": {\"inner\": {\"type\": \"string\", \"enum\": [\"a\", \"b\", \"c\"]}}}%s\n", k, sep)
			case k%5 == 1:
				fmt.Fprintf(&b, "        \"key_%d\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/leaf\"}}%s\n", k, sep)
			case k%5 == 2 && c:
				fmt.Fprintf(&b, "        \"key_%d\": {\"type\": \"string\", \"maxLength\": 32}%s\n", k, sep)
			case k%5 == 2:
				fmt.Fprintf(&b, "        \"key_%d\": {\"type\": \"string\", \"maxLength\": 64}%s\n", k, sep)
			case k%5 == 4 && c:
				fmt.Fprintf(&b, "        \"key_%d\": {\"type\": \"integer\", \"minimum\": 0}%s\n", k, sep)
			default:
				fmt.Fprintf(&b, "        \"key_%d\": {\"type\": \"number\", \"minimum\": 0}%s\n", k, sep)
			}
		}
		sep := ","
		if i == n-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "      }\n    }%s\n", sep)
	}
	b.WriteString("  }\n}\n")
	return []byte(b.String())
}

func BenchmarkSchemaDiff2MB(b *testing.B) {
	baseData, headData := genSchema(2<<20, false), genSchema(2<<20, true)
	load := func(data []byte) SchemaSource {
		return SchemaSource{"schema.json", func(string) ([]byte, error) { return data, nil }}
	}
	changes, err := DiffSchemas(load(baseData), load(headData))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("base %d bytes, head %d bytes, %d changes", len(baseData), len(headData), len(changes))
	b.Run("diff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DiffSchemas(load(baseData), load(headData)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The parse alone, to tell the walk's share.
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseNode("schema.json", baseData); err != nil {
				b.Fatal(err)
			}
			if _, err := ParseNode("schema.json", headData); err != nil {
				b.Fatal(err)
			}
		}
	})
}
