package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// The official SARIF 2.1.0 schema (OASIS committee specification), kept
// verbatim in testdata and loaded under its own $id, so validation never
// touches the network.
const sarifSchemaFile = "testdata/sarif-schema-2.1.0.json"

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	if id == "" {
		t.Fatal("schema has no $id")
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validateSARIF(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

func renderSARIF(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (&SARIF{ToolVersion: "1.2.3-test"}).Render(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSARIFValidates(t *testing.T) {
	sch := sarifSchema(t)
	for name, r := range map[string]*Report{
		"sample": sampleReport(),
		"empty":  emptyReport(),
		"many":   manyFindings(300, 30),
	} {
		if err := validateSARIF(sch, renderSARIF(t, r)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSARIFSchemaRejects proves the validation above can fail: documents
// broken in ways the schema forbids must not validate.
func TestSARIFSchemaRejects(t *testing.T) {
	sch := sarifSchema(t)
	tests := []struct {
		name, wantInErr string
		breakIt         func(log map[string]any)
	}{
		{"level fatal", "level", func(log map[string]any) {
			result(log, 0)["level"] = "fatal"
		}},
		{"no message", "message", func(log map[string]any) {
			delete(result(log, 0), "message")
		}},
		{"line zero", "startLine", func(log map[string]any) {
			loc := located(log)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["region"] = map[string]any{"startLine": 0}
		}},
		{"unknown suppression kind", "kind", func(log map[string]any) {
			result(log, 0)["suppressions"] = []any{map[string]any{"kind": "yaml"}}
		}},
		{"wrong version", "version", func(log map[string]any) {
			log["version"] = "2.0.0"
		}},
		{"unknown property", "additional", func(log map[string]any) {
			result(log, 0)["severity"] = "error"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log map[string]any
			if err := json.Unmarshal(renderSARIF(t, sampleReport()), &log); err != nil {
				t.Fatal(err)
			}
			tt.breakIt(log)
			broken, err := json.Marshal(log)
			if err != nil {
				t.Fatal(err)
			}
			err = validateSARIF(sch, broken)
			if err == nil {
				t.Fatal("broken SARIF validated")
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error does not mention %q:\n%v", tt.wantInErr, err)
			}
		})
	}
}

func result(log map[string]any, i int) map[string]any {
	return log["runs"].([]any)[0].(map[string]any)["results"].([]any)[i].(map[string]any)
}

// located is the first result that has a location.
func located(log map[string]any) map[string]any {
	for _, r := range log["runs"].([]any)[0].(map[string]any)["results"].([]any) {
		if _, ok := r.(map[string]any)["locations"]; ok {
			return r.(map[string]any)
		}
	}
	panic("no result with a location")
}

// TestSARIFContent checks the mapping the golden file shows, field by field.
func TestSARIFContent(t *testing.T) {
	var log struct {
		Schema string `json:"$schema"`
		Runs   []struct {
			Tool struct {
				Driver struct {
					Name, InformationURI, Version string
					Rules                         []struct {
						ID, Name, HelpURI string
						FullDescription   struct{ Text string }
						DefaultConfig     struct{ Level string } `json:"defaultConfiguration"`
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
						Region           *struct{ StartLine int }
					}
				}
				PartialFingerprints map[string]string
				Suppressions        []struct{ Kind, Justification string }
			}
		}
	}
	r := sampleReport()
	if err := json.Unmarshal(renderSARIF(t, r), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs", len(log.Runs))
	}
	run := log.Runs[0]
	d := run.Tool.Driver
	if d.Name != "breakwater" || d.InformationURI != InformationURI || d.Version != "1.2.3-test" {
		t.Errorf("driver = %+v", d)
	}
	if len(d.Rules) != 3 {
		t.Fatalf("%d rules, want 3", len(d.Rules))
	}
	for _, rule := range d.Rules {
		reg, _ := finding.Lookup(rule.ID)
		if rule.FullDescription.Text != reg.Summary || rule.HelpURI != reg.DocsURL() {
			t.Errorf("rule %s: %+v", rule.ID, rule)
		}
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(r.Findings))
	}
	for i, res := range run.Results {
		f := r.Findings[i]
		if d.Rules[res.RuleIndex].ID != res.RuleID || res.RuleID != f.Rule {
			t.Errorf("result %d: ruleId %s, ruleIndex %d", i, res.RuleID, res.RuleIndex)
		}
		if res.PartialFingerprints[FingerprintKey] != f.Fingerprint {
			t.Errorf("result %d: fingerprints %v", i, res.PartialFingerprints)
		}
		if f.File == "" {
			if res.Locations != nil {
				t.Errorf("result %d: locations for a finding without a file", i)
			}
		} else {
			loc := res.Locations[0].PhysicalLocation
			if loc.ArtifactLocation.URIBaseID != "%SRCROOT%" || loc.Region == nil || loc.Region.StartLine != f.Line {
				t.Errorf("result %d: location %+v", i, loc)
			}
		}
		if f.Suppressed != (len(res.Suppressions) == 1) {
			t.Errorf("result %d: suppressions %v", i, res.Suppressions)
		}
		if f.Suppressed && (res.Suppressions[0].Kind != "external" || res.Suppressions[0].Justification != f.SuppressionReason) {
			t.Errorf("result %d: suppression %+v", i, res.Suppressions[0])
		}
	}
	levels := map[string]bool{}
	for _, res := range run.Results {
		levels[res.Level] = true
	}
	if !levels["error"] || !levels["warning"] || !levels["note"] {
		t.Errorf("levels = %v", levels)
	}
}

func TestSARIFUnregisteredRule(t *testing.T) {
	r := New("", "", []finding.Finding{{Rule: "test/not-registered", Severity: finding.Error, Message: "x"}}, nil)
	var buf bytes.Buffer
	if err := (&SARIF{}).Render(&buf, r); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Errorf("err = %v", err)
	}
}

func TestFileURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker/db/Dockerfile", "docker/db/Dockerfile"},
		{"a b/c#d?.yml", "a%20b/c%23d%3F.yml"},
		{"c:weird/x", "./c:weird/x"},
		{hostilePath, "deploy/%3Cscript%3Ealert%281%29%3C/script%3E/%60x%60%20a%7Cb%20@here.yaml"},
	}
	for _, tt := range tests {
		if got := fileURI(tt.in); got != tt.want {
			t.Errorf("fileURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
