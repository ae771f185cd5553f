package check

import "github.com/breakwater-ci/breakwater/internal/finding"

const (
	regroupIncident = "A release regrouped the keys of config/options.yml per environment (production:, development:, test:). Running servers had the old flat layout, the new code could not read it, and the application did not boot after deploy; a backward-compatible form existed, but nobody noticed the change was breaking."
	closedIncident  = "A product keeps its site configuration as a JSON Schema with a closed root (additionalProperties: false): removing or renaming a property broke every installation that set it."
)

// The config rules: breaking changes in JSON Schemas (input semantics: the
// new schema rejects a config the old one accepted) and in config files
// read without a schema. Their pages are docs/rules/<ID>.md.
var (
	SchemaPropertyRemoved = &finding.Rule{
		ID:       "config/schema-property-removed",
		Title:    "Schema removes a property",
		Severity: finding.Error,
		Summary:  "A property disappears from a JSON Schema. Where the object is closed (additionalProperties or unevaluatedProperties false) every config that sets it is now rejected (error); where it is open the value is silently ignored (warning).",
		Incident: closedIncident,
	}
	SchemaRequiredAdded = &finding.Rule{
		ID:       "config/schema-required-added",
		Title:    "Schema makes a property required",
		Severity: finding.Error,
		Summary:  "A property becomes required. Every existing config that does not set it is rejected (error); with a default in the schema, readers that apply defaults still work (notice).",
		Incident: closedIncident,
	}
	SchemaTypeNarrowed = &finding.Rule{
		ID:       "config/schema-type-narrowed",
		Title:    "Schema narrows a type",
		Severity: finding.Error,
		Summary:  "The types a schema allows at a location shrink (string or integer → integer, number → integer), so configs that used the dropped type are rejected. Widening is fine.",
		Incident: closedIncident,
	}
	SchemaEnumValueRemoved = &finding.Rule{
		ID:       "config/schema-enum-value-removed",
		Title:    "Schema removes an allowed value",
		Severity: finding.Error,
		Summary:  "An enum loses a value, or a const changes, so configs that used the old value are rejected.",
		Incident: closedIncident,
	}
	SchemaConstraintTightened = &finding.Rule{
		ID:       "config/schema-constraint-tightened",
		Title:    "Schema tightens a constraint",
		Severity: finding.Error,
		Summary:  "minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, minItems, maxItems, minProperties or maxProperties is added or tightened (error), or a pattern is added or changed (warning: breakwater cannot tell whether the new pattern accepts every old value).",
		Incident: closedIncident,
	}
	SchemaClosed = &finding.Rule{
		ID:       "config/schema-closed",
		Title:    "Schema closes an object",
		Severity: finding.Error,
		Summary:  "additionalProperties or unevaluatedProperties becomes false, so every config with a key the schema does not list is rejected.",
		Incident: closedIncident,
	}
	SchemaDefaultChanged = &finding.Rule{
		ID:       "config/schema-default-changed",
		Title:    "Schema changes a default",
		Severity: finding.Warning,
		Summary:  "A default changes or disappears. Every config that leaves the property unset changes behaviour on upgrade without changing a line.",
		Incident: closedIncident,
	}
	OldConfigRejected = &finding.Rule{
		ID:       "config/old-config-rejected",
		Title:    "The new schema rejects a config the old one accepted",
		Severity: finding.Error,
		Summary:  "A config file, as it is on the base side, fails validation against the head side's schema. This is the definitive test: it catches what the schema diff rules miss.",
		Incident: closedIncident,
	}
	KeyRemoved = &finding.Rule{
		ID:       "config/key-removed",
		Title:    "Config key removed",
		Severity: finding.Warning,
		Summary:  "A key of a config file is gone in the new version, and no moved or renamed key explains it. Code that still reads it gets nothing; deployments that still set it are ignored.",
		Incident: regroupIncident,
	}
	TypeChanged = &finding.Rule{
		ID:       "config/type-changed",
		Title:    "Config value changes type",
		Severity: finding.Error,
		Summary:  "A config value changes kind (a number becomes a string, a scalar becomes a map). Code written for one kind cannot read the other from an old config.",
		Incident: regroupIncident,
	}
	Restructured = &finding.Rule{
		ID:       "config/restructured",
		Title:    "Config keys moved under a new parent",
		Severity: finding.Error,
		Summary:  "Keys of a config file moved under new parents (grouped per environment, nested in a section). Code that reads the new layout cannot read deployed configs in the old one.",
		Incident: regroupIncident,
	}
	KeyRenamed = &finding.Rule{
		ID:       "config/key-renamed",
		Title:    "Config key renamed",
		Severity: finding.Warning,
		Summary:  "A key was renamed: same parent, same value, a similar name. Deployed configs still use the old name.",
		Incident: regroupIncident,
	}
)

func init() {
	finding.Register(SchemaPropertyRemoved, SchemaRequiredAdded, SchemaTypeNarrowed, SchemaEnumValueRemoved,
		SchemaConstraintTightened, SchemaClosed, SchemaDefaultChanged, OldConfigRejected,
		KeyRemoved, TypeChanged, Restructured, KeyRenamed)
}
