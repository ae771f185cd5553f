package manifest

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// Engine names Terraform reports in facts.EngineVersion.Engine.
const (
	// EngineRDSPostgres is Amazon RDS for PostgreSQL: aws_db_instance or
	// aws_rds_cluster with engine = "postgres".
	EngineRDSPostgres = "postgres"
	// EngineAuroraPostgres is Amazon Aurora PostgreSQL: engine =
	// "aurora-postgresql".
	EngineAuroraPostgres = "aurora-postgresql"
	// EngineCloudSQLPostgres is Google Cloud SQL for PostgreSQL:
	// google_sql_database_instance with database_version = "POSTGRES_n".
	EngineCloudSQLPostgres = "cloudsql-postgres"
	// EngineAzurePostgres is Azure Database for PostgreSQL, flexible
	// (azurerm_postgresql_flexible_server) or single server
	// (azurerm_postgresql_server).
	EngineAzurePostgres = "azure-postgres"
)

// Terraform reads the .tf files of one module directory (path → content,
// all files of that directory on one side of the change) and returns the
// Postgres engine versions they set.
//
// Resources read:
//   - aws_db_instance, aws_rds_cluster: engine "postgres" or
//     "aurora-postgresql" (others are skipped, as are resources without
//     engine, such as read replicas that inherit it), engine_version;
//   - google_sql_database_instance: database_version "POSTGRES_14",
//     "POSTGRES_9_6" (other engines are skipped);
//   - azurerm_postgresql_flexible_server, azurerm_postgresql_server:
//     version.
//
// Values are evaluated like Terraform would with no inputs: variables take
// their declared default (from any file of the module), locals are
// computed from those, and a set of pure Terraform functions (format,
// join, lookup, replace, split, try...) is available. A value that depends
// on anything else (a variable without default, a data source, a module
// output, another resource, count or for_each, a function breakwater does
// not have) gives Major 0 and Unresolved saying what was unknown, with
// Version holding the expression as written. Nothing is guessed.
//
// Not read: *.tfvars and TF_VAR_ environment (a default can thus be
// overridden at apply time), *.tf.json, and module blocks (other
// directories are not descended into). Files whose names do not end in
// ".tf" are ignored. Override files (override.tf, *_override.tf) are
// merged over the others as Terraform does, per attribute.
//
// A file that does not parse gives a *finding.InputError; the other files
// are still read. The returned manifest is never nil.
func Terraform(files map[string][]byte) (*facts.Manifest, []error) {
	m := &tfModule{
		vars:   map[string]*tfVar{},
		locals: map[string]*tfLocal{},
	}
	var errs []error
	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".tf") {
			names = append(names, name)
		}
	}
	// Terraform reads primary files in lexical order, then override files.
	sort.Slice(names, func(i, j int) bool {
		oi, oj := tfIsOverride(names[i]), tfIsOverride(names[j])
		if oi != oj {
			return oj
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		src := files[name]
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			errs = append(errs, tfParseError(name, diags))
			m.broken = true
			continue
		}
		m.add(name, src, f.Body.(*hclsyntax.Body), tfIsOverride(name))
	}
	out := &facts.Manifest{}
	for _, r := range m.resources {
		if e := m.engineVersion(r); e != nil {
			out.Engines = append(out.Engines, e)
		}
	}
	sort.SliceStable(out.Engines, func(i, j int) bool {
		a, b := out.Engines[i], out.Engines[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return out, errs
}

func tfIsOverride(name string) bool {
	base := strings.TrimSuffix(path.Base(strings.ReplaceAll(name, `\`, "/")), ".tf")
	return base == "override" || strings.HasSuffix(base, "_override")
}

func tfParseError(file string, diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		e := &finding.InputError{File: file, Msg: d.Summary}
		if d.Detail != "" {
			e.Msg += ": " + d.Detail
		}
		if d.Subject != nil {
			e.Line = d.Subject.Start.Line
		}
		return e
	}
	return &finding.InputError{File: file, Msg: diags.Error()}
}

// tfModule is what the files of one module declare.
type tfModule struct {
	vars      map[string]*tfVar
	locals    map[string]*tfLocal
	resources []*tfResource
	byKey     map[string]*tfResource
	// broken is set when a file did not parse, so a missing declaration
	// may be in it.
	broken bool
}

// tfAttr is an attribute with the file it sits in.
type tfAttr struct {
	file string
	src  []byte
	attr *hclsyntax.Attribute
}

type tfVar struct {
	name string
	def  *tfAttr // nil: no default
	// Resolved on first use.
	done   bool
	val    cty.Value
	reason string
}

type tfLocal struct {
	name string
	at   tfAttr
	// state: 0 not visited, 1 in progress, 2 done.
	state  int
	val    cty.Value
	reason string
}

type tfResource struct {
	typ, name string
	file      string
	line      int
	attrs     map[string]*tfAttr
}

func (m *tfModule) add(file string, src []byte, body *hclsyntax.Body, override bool) {
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			if len(b.Labels) != 1 {
				continue
			}
			name := b.Labels[0]
			v := m.vars[name]
			if v == nil {
				if override {
					continue // an override file cannot declare a variable
				}
				v = &tfVar{name: name}
				m.vars[name] = v
			} else if !override {
				continue // duplicate declaration: Terraform rejects it; keep the first
			}
			if a, ok := b.Body.Attributes["default"]; ok {
				v.def = &tfAttr{file, src, a}
			}
		case "locals":
			for name, a := range b.Body.Attributes {
				if l, ok := m.locals[name]; ok {
					if override {
						l.at = tfAttr{file, src, a}
					}
					continue
				}
				if !override {
					m.locals[name] = &tfLocal{name: name, at: tfAttr{file, src, a}}
				}
			}
		case "resource":
			if len(b.Labels) != 2 {
				continue
			}
			if m.byKey == nil {
				m.byKey = map[string]*tfResource{}
			}
			key := b.Labels[0] + "." + b.Labels[1]
			r := m.byKey[key]
			if r == nil {
				if override {
					continue
				}
				r = &tfResource{typ: b.Labels[0], name: b.Labels[1], file: file, line: b.TypeRange.Start.Line, attrs: map[string]*tfAttr{}}
				m.byKey[key] = r
				m.resources = append(m.resources, r)
			} else if !override {
				continue
			}
			for name, a := range b.Body.Attributes {
				r.attrs[name] = &tfAttr{file, src, a}
			}
		}
	}
}

// engineVersion reads a resource's Postgres version; nil when the
// resource is not a Postgres database.
func (m *tfModule) engineVersion(r *tfResource) *facts.EngineVersion {
	e := &facts.EngineVersion{
		File:  r.file,
		Line:  r.line,
		Key:   r.typ + "." + r.name,
		Label: fmt.Sprintf("%s %q", r.typ, r.name),
	}
	var attrName string
	switch r.typ {
	case "aws_db_instance", "aws_rds_cluster":
		attrName = "engine_version"
		ea, ok := r.attrs["engine"]
		if !ok {
			return nil
		}
		engine, _, why := m.evalString(ea)
		switch {
		case why != "":
			e.Unresolved = "the engine is unknown: " + why
		case engine == EngineRDSPostgres || engine == EngineAuroraPostgres:
			e.Engine = engine
		default:
			return nil
		}
	case "google_sql_database_instance":
		attrName = "database_version"
		e.Engine = EngineCloudSQLPostgres
	case "azurerm_postgresql_flexible_server", "azurerm_postgresql_server":
		attrName = "version"
		e.Engine = EngineAzurePostgres
	default:
		return nil
	}

	a, ok := r.attrs[attrName]
	if !ok {
		if r.typ == "google_sql_database_instance" {
			return nil // required by the provider; without it the engine is unknown
		}
		if e.Unresolved == "" {
			e.Unresolved = attrName + " is not set (the provider picks the default)"
		}
		return e
	}
	e.File, e.Line = a.file, a.attr.SrcRange.Start.Line
	version, raw, why := m.evalString(a)
	if why != "" {
		if r.typ == "google_sql_database_instance" {
			// The engine is in the value; a template may still show it.
			switch prefix := tfLiteralPrefix(a.attr.Expr); {
			case strings.HasPrefix(strings.ToUpper(prefix), "POSTGRES_"):
			case len(prefix) >= len("POSTGRES_") || !strings.HasPrefix("POSTGRES_", strings.ToUpper(prefix)):
				return nil
			default:
				e.Engine = ""
			}
		}
		e.Version = raw
		if e.Unresolved == "" {
			e.Unresolved = why
		}
		return e
	}
	e.Version = version
	if e.Unresolved != "" {
		return e
	}
	num := version
	if r.typ == "google_sql_database_instance" {
		rest, ok := tfCutPrefixFold(version, "POSTGRES_")
		if !ok {
			return nil // MYSQL_8_0, SQLSERVER_2019_STANDARD…
		}
		num = strings.ReplaceAll(rest, "_", ".")
	}
	major, err := imageref.ParsePGMajor(num)
	if err != nil || major == 0 {
		e.Unresolved = fmt.Sprintf("%s %q is not a Postgres version", attrName, version)
		return e
	}
	e.Major = major
	return e
}

func tfCutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// tfLiteralPrefix is the literal text a template expression starts with.
func tfLiteralPrefix(expr hclsyntax.Expression) string {
	t, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || len(t.Parts) == 0 {
		return ""
	}
	lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
	if !ok || lit.Val.Type() != cty.String || !lit.Val.IsKnown() || lit.Val.IsNull() {
		return ""
	}
	return lit.Val.AsString()
}

// evalString evaluates an attribute to a string. raw is the expression as
// written; why is set when the value cannot be known.
func (m *tfModule) evalString(a *tfAttr) (val, raw, why string) {
	raw = strings.TrimSpace(string(a.attr.Expr.Range().SliceBytes(a.src)))
	switch a.attr.Expr.(type) {
	case *hclsyntax.TemplateExpr, *hclsyntax.TemplateWrapExpr:
		if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
			raw = raw[1 : len(raw)-1]
		}
	}
	v, why := m.eval(a.attr.Expr)
	if why != "" {
		return "", raw, why
	}
	name := a.attr.Name
	switch {
	case v.IsNull():
		return "", raw, name + " is null (the provider picks the default)"
	case !v.IsWhollyKnown():
		return "", raw, name + " is only known when Terraform runs"
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", raw, fmt.Sprintf("%s is a %s, not a string", name, v.Type().FriendlyName())
	}
	return s.AsString(), raw, ""
}

// eval evaluates an expression against the module's variable defaults and
// locals. why says what was unknown when it cannot be evaluated.
func (m *tfModule) eval(expr hclsyntax.Expression) (cty.Value, string) {
	if why := m.unknowns(expr, ""); why != "" {
		return cty.NilVal, why
	}
	v, diags := expr.Value(m.evalContext())
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				msg := d.Summary
				if d.Detail != "" {
					msg += ": " + d.Detail
				}
				return cty.NilVal, "cannot evaluate it: " + msg
			}
		}
	}
	return v, ""
}

// unknowns checks every reference of expr and says which cannot be known;
// "" when all can. in names the local being computed, if any.
func (m *tfModule) unknowns(expr hclsyntax.Expression, in string) string {
	var reasons []string
	seen := map[string]bool{}
	note := func(s string) {
		if !seen[s] {
			seen[s] = true
			reasons = append(reasons, s)
		}
	}
	for _, t := range expr.Variables() {
		if why := m.unknownRef(t, in); why != "" {
			note(why)
		}
	}
	return strings.Join(reasons, "; ")
}

func (m *tfModule) unknownRef(t hcl.Traversal, in string) string {
	root := t.RootName()
	attr := func(i int) (string, bool) {
		if len(t) <= i {
			return "", false
		}
		a, ok := t[i].(hcl.TraverseAttr)
		return a.Name, ok
	}
	within := ""
	if in != "" {
		within = " (in local." + in + ")"
	}
	notDeclared := " is not declared in this module"
	if m.broken {
		notDeclared += " (or is in a file that did not parse)"
	}
	switch root {
	case "var":
		name, ok := attr(1)
		if !ok {
			return "var is used as a whole" + within
		}
		v := m.vars[name]
		if v == nil {
			return "var." + name + notDeclared + within
		}
		m.resolveVar(v)
		if v.reason != "" {
			return v.reason + within
		}
		return ""
	case "local":
		name, ok := attr(1)
		if !ok {
			return "local is used as a whole" + within
		}
		l := m.locals[name]
		if l == nil {
			return "local." + name + notDeclared + within
		}
		m.resolveLocal(l)
		return l.reason
	case "data":
		return tfRefString(t, 3) + " is a data source, read only when Terraform runs" + within
	case "module":
		return tfRefString(t, 3) + " is a module output" + within
	case "count":
		return tfRefString(t, 2) + " depends on count" + within
	case "each":
		return tfRefString(t, 2) + " depends on for_each" + within
	case "self":
		return tfRefString(t, 2) + " is only known when Terraform runs" + within
	case "path", "terraform":
		return tfRefString(t, 2) + " is only known when Terraform runs" + within
	default:
		if len(t) < 2 {
			return root + " is not something breakwater can resolve" + within
		}
		return tfRefString(t, 3) + " is an attribute of another resource" + within
	}
}

// tfRefString prints the first n steps of a traversal: var.x, data.t.n.
func tfRefString(t hcl.Traversal, n int) string {
	var b strings.Builder
	for i, s := range t {
		if i >= n {
			break
		}
		switch s := s.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if k, err := convert.Convert(s.Key, cty.String); err == nil && k.IsKnown() && !k.IsNull() {
				fmt.Fprintf(&b, "[%s]", k.AsString())
			} else {
				b.WriteString("[…]")
			}
		case hcl.TraverseSplat:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func (m *tfModule) resolveVar(v *tfVar) {
	if v.done {
		return
	}
	v.done = true
	if v.def == nil {
		v.reason = "var." + v.name + " has no default"
		return
	}
	// A default is a literal value in Terraform: no references, no calls.
	val, diags := v.def.attr.Expr.Value(nil)
	switch {
	case diags.HasErrors():
		v.reason = fmt.Sprintf("the default of var.%s cannot be read: %s", v.name, diags[0].Summary)
	case !val.IsWhollyKnown():
		v.reason = "the default of var." + v.name + " is not known"
	default:
		v.val = val
	}
}

func (m *tfModule) resolveLocal(l *tfLocal) {
	switch l.state {
	case 2:
		return
	case 1:
		l.reason = "local." + l.name + " refers to itself"
		return
	}
	l.state = 1
	why := m.unknowns(l.at.attr.Expr, l.name)
	if why == "" && l.reason == "" {
		v, diags := l.at.attr.Expr.Value(m.evalContext())
		switch {
		case diags.HasErrors():
			why = fmt.Sprintf("local.%s cannot be evaluated: %s", l.name, diags[0].Summary)
			if diags[0].Detail != "" {
				why += ": " + diags[0].Detail
			}
		default:
			l.val = v
		}
	}
	if l.reason == "" {
		l.reason = why
	}
	l.state = 2
}

// evalContext holds the variables and locals resolved so far and the
// functions breakwater evaluates. Callers check references with unknowns
// first, so everything an expression needs is present.
func (m *tfModule) evalContext() *hcl.EvalContext {
	vars := map[string]cty.Value{}
	for name, v := range m.vars {
		m.resolveVar(v)
		if v.reason == "" {
			vars[name] = v.val
		}
	}
	locals := map[string]cty.Value{}
	for name, l := range m.locals {
		if l.state == 2 && l.reason == "" {
			locals[name] = l.val
		}
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":   cty.ObjectVal(vars),
			"local": cty.ObjectVal(locals),
		},
		Functions: tfFunctions,
	}
}

// tfFunctions are the pure Terraform functions breakwater evaluates. Any
// other call (file, templatefile, timestamp, provider functions…) fails
// evaluation and leaves the value unresolved.
var tfFunctions = map[string]function.Function{
	"abs":        stdlib.AbsoluteFunc,
	"can":        tryfunc.CanFunc,
	"ceil":       stdlib.CeilFunc,
	"chomp":      stdlib.ChompFunc,
	"coalesce":   stdlib.CoalesceFunc,
	"compact":    stdlib.CompactFunc,
	"concat":     stdlib.ConcatFunc,
	"contains":   stdlib.ContainsFunc,
	"element":    stdlib.ElementFunc,
	"flatten":    stdlib.FlattenFunc,
	"floor":      stdlib.FloorFunc,
	"format":     stdlib.FormatFunc,
	"join":       stdlib.JoinFunc,
	"keys":       stdlib.KeysFunc,
	"length":     stdlib.LengthFunc,
	"lookup":     stdlib.LookupFunc,
	"lower":      stdlib.LowerFunc,
	"max":        stdlib.MaxFunc,
	"merge":      stdlib.MergeFunc,
	"min":        stdlib.MinFunc,
	"parseint":   stdlib.ParseIntFunc,
	"regex":      stdlib.RegexFunc,
	"replace":    tfReplaceFunc,
	"split":      stdlib.SplitFunc,
	"substr":     stdlib.SubstrFunc,
	"tobool":     stdlib.MakeToFunc(cty.Bool),
	"tonumber":   stdlib.MakeToFunc(cty.Number),
	"tostring":   stdlib.MakeToFunc(cty.String),
	"trim":       stdlib.TrimFunc,
	"trimprefix": stdlib.TrimPrefixFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"try":        tryfunc.TryFunc,
	"upper":      stdlib.UpperFunc,
	"values":     stdlib.ValuesFunc,
}

// tfReplaceFunc is Terraform's replace: a substring wrapped in slashes is
// a regular expression.
var tfReplaceFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		sub := args[1].AsString()
		if len(sub) > 1 && sub[0] == '/' && sub[len(sub)-1] == '/' {
			return stdlib.RegexReplace(args[0], cty.StringVal(sub[1:len(sub)-1]), args[2])
		}
		return stdlib.Replace(args[0], args[1], args[2])
	},
})
