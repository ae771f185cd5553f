package check

import (
	"fmt"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/configdiff"
	"github.com/breakwater-ci/breakwater/internal/finding"
)

const schemaRemediation = "Keep the new schema accepting every config the old one accepted: keep a removed property for a release (mark it deprecated), give a new required property a default, widen rather than narrow, and relax constraints before tightening them. If the break is intended, version the schema and ship a migration step that rewrites deployed configs in the deploy, recorded in the changelog."

var schemaRules = map[string]*finding.Rule{
	configdiff.SchemaPropertyRemoved:     SchemaPropertyRemoved,
	configdiff.SchemaRequiredAdded:       SchemaRequiredAdded,
	configdiff.SchemaTypeNarrowed:        SchemaTypeNarrowed,
	configdiff.SchemaEnumValueRemoved:    SchemaEnumValueRemoved,
	configdiff.SchemaConstraintTightened: SchemaConstraintTightened,
	configdiff.SchemaClosed:              SchemaClosed,
	configdiff.SchemaDefaultChanged:      SchemaDefaultChanged,
}

// Schema turns the breaking changes between two versions of a JSON Schema
// into findings, on the schema's lines. How bad each is depends on what a
// validator does with an old config: rejected is an error; silently
// ignored, defaulted or possibly still matching is less.
func Schema(changes []configdiff.SchemaChange) []finding.Finding {
	out := make([]finding.Finding, 0, len(changes))
	for _, ch := range changes {
		r := schemaRules[ch.Kind]
		if r == nil {
			continue
		}
		at := ch.Location
		if ch.Kind == configdiff.SchemaPropertyRemoved || ch.Kind == configdiff.SchemaRequiredAdded {
			at = at[:strings.LastIndexByte(at, '/')+1] // the object's location
			if len(at) > 1 {
				at = at[:len(at)-1]
			}
		}
		if at == "" {
			at = "/"
		}
		sev := r.Severity
		var msg string
		switch ch.Kind {
		case configdiff.SchemaPropertyRemoved:
			if ch.Closed {
				msg = fmt.Sprintf("Property `%s` is removed from the schema at `%s`, and the object is closed. Every config that sets it is now rejected.", ch.Property, at)
			} else {
				sev = finding.Warning
				msg = fmt.Sprintf("Property `%s` is removed from the schema at `%s`. The object is open, so configs that set it still validate, but the value is silently ignored.", ch.Property, at)
			}
		case configdiff.SchemaRequiredAdded:
			if ch.HasDefault {
				sev = finding.Notice
				msg = fmt.Sprintf("Property `%s` becomes required at `%s`; it has a default, so readers that apply defaults still load old configs, but a plain validator rejects them.", ch.Property, at)
			} else {
				msg = fmt.Sprintf("Property `%s` becomes required at `%s`, with no default. Every config that does not set it is now rejected.", ch.Property, at)
			}
		case configdiff.SchemaTypeNarrowed:
			msg = fmt.Sprintf("`%s` allowed types narrow: %s → %s. Configs that used a dropped type are now rejected.", at, orAny(ch.From), orNone(ch.To))
		case configdiff.SchemaEnumValueRemoved:
			if ch.Keyword == "enum" && ch.From == "" {
				msg = fmt.Sprintf("`%s` is now restricted to %s. Configs with any other value are now rejected.", at, ch.To)
			} else if ch.Keyword == "enum" {
				msg = fmt.Sprintf("`%s` no longer allows %s. Configs that use it are now rejected.", at, ch.From)
			} else {
				msg = fmt.Sprintf("`%s` %s changes: %s → %s. Configs with any other value are now rejected.", at, ch.Keyword, orAny(ch.From), ch.To)
			}
		case configdiff.SchemaConstraintTightened:
			if ch.Keyword == "pattern" {
				sev = finding.Warning
				msg = fmt.Sprintf("`%s` pattern changes: %s → %s. breakwater cannot tell whether every old value still matches; the old-config check validates the listed configs.", at, orAny(ch.From), ch.To)
			} else {
				msg = fmt.Sprintf("`%s` %s tightens: %s → %s. Configs with values outside the new bound are now rejected.", at, ch.Keyword, orAny(ch.From), ch.To)
			}
		case configdiff.SchemaClosed:
			msg = fmt.Sprintf("`%s` is closed: %s becomes false. Every config with a key the schema does not list is now rejected.", at, ch.Keyword)
		case configdiff.SchemaDefaultChanged:
			if ch.To == "" {
				msg = fmt.Sprintf("`%s` default %s is removed. Configs that leave it unset change behaviour on upgrade.", at, ch.From)
			} else {
				msg = fmt.Sprintf("`%s` default changes: %s → %s. Configs that leave it unset change behaviour on upgrade.", at, ch.From, ch.To)
			}
		}
		f := finding.New(r, ch.File, ch.Line, ch.Kind+":"+ch.Location+":"+ch.Keyword+":"+ch.Property, msg)
		f.Severity = sev
		f.Remediation = schemaRemediation
		out = append(out, f)
	}
	return out
}

// RejectedConfigs reports why the head schema rejects a config file as
// it is on the base side. line places a location in the file.
func RejectedConfigs(file, schema string, vs []configdiff.Violation, n int, line func([]string) int) []finding.Finding {
	out := make([]finding.Finding, 0, len(vs))
	for i, v := range vs {
		msg := fmt.Sprintf("`%s` as it is on the base side is rejected by the new `%s` at `%s`: %s (keyword %s).", file, schema, v.Pointer(), v.Message, v.Keyword)
		if i == len(vs)-1 && n > len(vs) {
			msg += fmt.Sprintf(" %d more violations are not listed.", n-len(vs))
		}
		f := finding.New(OldConfigRejected, file, line(v.Path()), "rejected:"+schema+":"+v.Pointer()+":"+v.Keyword+":"+v.Key, msg)
		f.Evidence = "validated with santhosh-tekuri/jsonschema/v6 against " + schema + " at the head commit"
		f.Remediation = schemaRemediation
		out = append(out, f)
	}
	return out
}

func orAny(s string) string {
	if s == "" {
		return "(any)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
