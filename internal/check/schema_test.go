package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/configdiff"
	"github.com/breakwater-ci/breakwater/internal/finding"
)

// How bad a schema change is depends on what a validator then does with
// an old config; the message says which.
func TestSchema(t *testing.T) {
	at := func(ch configdiff.SchemaChange) configdiff.SchemaChange {
		ch.File, ch.Line = "s.json", 7
		return ch
	}
	tests := []struct {
		ch   configdiff.SchemaChange
		want string
	}{
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaPropertyRemoved, Location: "/legacy", Property: "legacy", Closed: true}),
			"config/schema-property-removed error: Property `legacy` is removed from the schema at `/`, and the object is closed. Every config that sets it is now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaPropertyRemoved, Location: "/server/port", Property: "port"}),
			"config/schema-property-removed warning: Property `port` is removed from the schema at `/server`. The object is open, so configs that set it still validate, but the value is silently ignored."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaRequiredAdded, Location: "/region", Property: "region"}),
			"config/schema-required-added error: Property `region` becomes required at `/`, with no default. Every config that does not set it is now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaRequiredAdded, Location: "/a/b", Property: "b", HasDefault: true}),
			"config/schema-required-added notice: Property `b` becomes required at `/a`; it has a default, so readers that apply defaults still load old configs, but a plain validator rejects them."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaTypeNarrowed, Location: "/port", Keyword: "type", From: `"integer", "string"`, To: `"integer"`}),
			"config/schema-type-narrowed error: `/port` allowed types narrow: \"integer\", \"string\" → \"integer\". Configs that used a dropped type are now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaEnumValueRemoved, Location: "/level", Keyword: "enum", From: `"trace"`}),
			"config/schema-enum-value-removed error: `/level` no longer allows \"trace\". Configs that use it are now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaEnumValueRemoved, Location: "/level", Keyword: "enum", To: `["a", "b"]`}),
			"config/schema-enum-value-removed error: `/level` is now restricted to [\"a\", \"b\"]. Configs with any other value are now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaEnumValueRemoved, Location: "/v", Keyword: "const", From: "1", To: "2"}),
			"config/schema-enum-value-removed error: `/v` const changes: 1 → 2. Configs with any other value are now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaConstraintTightened, Location: "/name", Keyword: "maxLength", From: "64", To: "32"}),
			"config/schema-constraint-tightened error: `/name` maxLength tightens: 64 → 32. Configs with values outside the new bound are now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaConstraintTightened, Location: "/id", Keyword: "pattern", To: `^[a-z]+$`}),
			"config/schema-constraint-tightened warning: `/id` pattern changes: (any) → ^[a-z]+$. breakwater cannot tell whether every old value still matches; the old-config check validates the listed configs."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaClosed, Keyword: "additionalProperties", To: "false"}),
			"config/schema-closed error: `/` is closed: additionalProperties becomes false. Every config with a key the schema does not list is now rejected."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaDefaultChanged, Location: "/pool/size", Keyword: "default", From: "10", To: "20"}),
			"config/schema-default-changed warning: `/pool/size` default changes: 10 → 20. Configs that leave it unset change behaviour on upgrade."},
		{at(configdiff.SchemaChange{Kind: configdiff.SchemaDefaultChanged, Location: "/pool/size", Keyword: "default", From: "10"}),
			"config/schema-default-changed warning: `/pool/size` default 10 is removed. Configs that leave it unset change behaviour on upgrade."},
	}
	for _, tt := range tests {
		fs := Schema([]configdiff.SchemaChange{tt.ch})
		if len(fs) != 1 {
			t.Fatalf("%+v: %d findings", tt.ch, len(fs))
		}
		f := fs[0]
		if got := fmt.Sprintf("%s %s: %s", f.Rule, f.Severity, f.Message); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		if f.File != "s.json" || f.Line != 7 || f.Remediation == "" {
			t.Errorf("%s: file %s line %d remediation %q", f.Rule, f.File, f.Line, f.Remediation)
		}
	}
	// Every kind the differ reports has a rule.
	for kind, r := range schemaRules {
		if !strings.HasSuffix(r.ID, "/"+kind) {
			t.Errorf("kind %s maps to rule %s", kind, r.ID)
		}
	}
}

func TestRejectedConfigs(t *testing.T) {
	vs := []configdiff.Violation{
		{Location: nil, Keyword: "additionalProperties", Key: "legacy", Message: "additional properties 'legacy' not allowed"},
		{Location: []string{"name"}, Keyword: "maxLength", Message: "maxLength: got 40, want 32"},
	}
	fs := RejectedConfigs("c.json", "s.json", vs, 5, func(loc []string) int { return len(loc) + 1 })
	var got []string
	for _, f := range fs {
		if f.Rule != OldConfigRejected.ID || f.Severity != finding.Error || f.File != "c.json" {
			t.Errorf("finding %+v", f)
		}
		got = append(got, fmt.Sprintf("@%d %s", f.Line, f.Message))
	}
	want := []string{
		"@2 `c.json` as it is on the base side is rejected by the new `s.json` at `/legacy`: additional properties 'legacy' not allowed (keyword additionalProperties).",
		"@2 `c.json` as it is on the base side is rejected by the new `s.json` at `/name`: maxLength: got 40, want 32 (keyword maxLength). 3 more violations are not listed.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fs[0].Fingerprint == fs[1].Fingerprint {
		t.Error("two violations share a fingerprint")
	}
}
