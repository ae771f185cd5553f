package manifest

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
)

func TestTerraform(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []facts.EngineVersion
		// errs are "file:line" of the expected input errors.
		errs []string
	}{
		{
			name: "rds instance literal",
			files: map[string]string{"rds.tf": `resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = "14.9"
  instance_class = "db.t3.micro"
}
`},
			want: []facts.EngineVersion{{File: "rds.tf", Line: 3, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "14.9", Major: 1400}},
		},
		{
			name: "rds 9.6 three-part version",
			files: map[string]string{"main.tf": `resource "aws_db_instance" "old" {
  engine_version = "9.6.22"
  engine         = "postgres"
}
`},
			want: []facts.EngineVersion{{File: "main.tf", Line: 2, Key: "aws_db_instance.old", Label: `aws_db_instance "old"`, Engine: "postgres", Version: "9.6.22", Major: 906}},
		},
		{
			name: "aurora cluster",
			files: map[string]string{"aurora.tf": `
resource "aws_rds_cluster" "db" {
  cluster_identifier = "db"
  engine             = "aurora-postgresql"
  engine_version     = "15.4"
}
`},
			want: []facts.EngineVersion{{File: "aurora.tf", Line: 5, Key: "aws_rds_cluster.db", Label: `aws_rds_cluster "db"`, Engine: "aurora-postgresql", Version: "15.4", Major: 1500}},
		},
		{
			name: "number",
			files: map[string]string{"rds.tf": `resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = 14
}
resource "azurerm_postgresql_server" "legacy" {
  version = 11
}
`},
			want: []facts.EngineVersion{
				{File: "rds.tf", Line: 3, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "14", Major: 1400},
				{File: "rds.tf", Line: 6, Key: "azurerm_postgresql_server.legacy", Label: `azurerm_postgresql_server "legacy"`, Engine: "azure-postgres", Version: "11", Major: 1100},
			},
		},
		{
			name: "variable with default in another file",
			files: map[string]string{
				"main.tf": `resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = var.pg_version
}
`,
				"variables.tf": `variable "pg_version" {
  type    = string
  default = "16.3"
}
`},
			want: []facts.EngineVersion{{File: "main.tf", Line: 3, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "16.3", Major: 1600}},
		},
		{
			name: "local built from a variable, template string",
			files: map[string]string{"main.tf": `variable "major" {
  default = 15
}

locals {
  pg_version = "${var.major}.4"
  engine     = "aurora-${local.family}"
  family     = "postgresql"
}

resource "aws_rds_cluster" "this" {
  engine         = local.engine
  engine_version = local.pg_version
}

resource "aws_db_instance" "tpl" {
  engine         = "postgres"
  engine_version = "${var.major}.7"
}
`},
			want: []facts.EngineVersion{
				{File: "main.tf", Line: 13, Key: "aws_rds_cluster.this", Label: `aws_rds_cluster "this"`, Engine: "aurora-postgresql", Version: "15.4", Major: 1500},
				{File: "main.tf", Line: 18, Key: "aws_db_instance.tpl", Label: `aws_db_instance "tpl"`, Engine: "postgres", Version: "15.7", Major: 1500},
			},
		},
		{
			name: "functions and conditionals",
			files: map[string]string{"main.tf": `variable "env" {
  default = "prod"
}
variable "versions" {
  default = { prod = "16", dev = "17" }
}
resource "azurerm_postgresql_flexible_server" "a" {
  version = lookup(var.versions, var.env, "15")
}
resource "azurerm_postgresql_flexible_server" "b" {
  version = var.env == "prod" ? "14" : "15"
}
resource "azurerm_postgresql_flexible_server" "c" {
  version = replace("POSTGRES_13", "/^POSTGRES_/", "")
}
`},
			want: []facts.EngineVersion{
				{File: "main.tf", Line: 8, Key: "azurerm_postgresql_flexible_server.a", Label: `azurerm_postgresql_flexible_server "a"`, Engine: "azure-postgres", Version: "16", Major: 1600},
				{File: "main.tf", Line: 11, Key: "azurerm_postgresql_flexible_server.b", Label: `azurerm_postgresql_flexible_server "b"`, Engine: "azure-postgres", Version: "14", Major: 1400},
				{File: "main.tf", Line: 14, Key: "azurerm_postgresql_flexible_server.c", Label: `azurerm_postgresql_flexible_server "c"`, Engine: "azure-postgres", Version: "13", Major: 1300},
			},
		},
		{
			name: "variable without default",
			files: map[string]string{
				"variables.tf": `variable "pg_version" {
  type = string
}
`,
				"main.tf": `resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = var.pg_version
}
locals {
  v = "${var.pg_version}.1"
}
resource "aws_rds_cluster" "via_local" {
  engine         = "aurora-postgresql"
  engine_version = local.v
}
`},
			want: []facts.EngineVersion{
				{File: "main.tf", Line: 3, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "var.pg_version", Unresolved: "var.pg_version has no default"},
				{File: "main.tf", Line: 10, Key: "aws_rds_cluster.via_local", Label: `aws_rds_cluster "via_local"`, Engine: "aurora-postgresql", Version: "local.v", Unresolved: "var.pg_version has no default (in local.v)"},
			},
		},
		{
			name: "values known only when terraform runs",
			files: map[string]string{"main.tf": `data "aws_rds_engine_version" "pg" {
  engine = "postgres"
}
module "cfg" {
  source = "./cfg"
}
resource "aws_db_instance" "data" {
  engine         = "postgres"
  engine_version = data.aws_rds_engine_version.pg.version
}
resource "aws_db_instance" "mod" {
  engine         = "postgres"
  engine_version = module.cfg.pg_version
}
resource "aws_db_instance" "each" {
  for_each       = toset(["14", "15"])
  engine         = "postgres"
  engine_version = each.value
}
resource "aws_db_instance" "fn" {
  engine         = "postgres"
  engine_version = trimspace(file("${path.module}/PG_VERSION"))
}
resource "aws_db_instance" "undeclared" {
  engine         = "postgres"
  engine_version = "${var.nope}"
}
resource "aws_db_instance" "badcall" {
  engine         = "postgres"
  engine_version = uuid()
}
`},
			want: []facts.EngineVersion{
				{File: "main.tf", Line: 9, Key: "aws_db_instance.data", Label: `aws_db_instance "data"`, Engine: "postgres", Version: "data.aws_rds_engine_version.pg.version", Unresolved: "data.aws_rds_engine_version.pg is a data source, read only when Terraform runs"},
				{File: "main.tf", Line: 13, Key: "aws_db_instance.mod", Label: `aws_db_instance "mod"`, Engine: "postgres", Version: "module.cfg.pg_version", Unresolved: "module.cfg.pg_version is a module output"},
				{File: "main.tf", Line: 18, Key: "aws_db_instance.each", Label: `aws_db_instance "each"`, Engine: "postgres", Version: "each.value", Unresolved: "each.value depends on for_each"},
				{File: "main.tf", Line: 22, Key: "aws_db_instance.fn", Label: `aws_db_instance "fn"`, Engine: "postgres", Version: `trimspace(file("${path.module}/PG_VERSION"))`, Unresolved: "path.module is only known when Terraform runs"},
				{File: "main.tf", Line: 26, Key: "aws_db_instance.undeclared", Label: `aws_db_instance "undeclared"`, Engine: "postgres", Version: "${var.nope}", Unresolved: "var.nope is not declared in this module"},
				{File: "main.tf", Line: 30, Key: "aws_db_instance.badcall", Label: `aws_db_instance "badcall"`, Engine: "postgres", Version: "uuid()", Unresolved: `cannot evaluate it: Call to unknown function: There is no function named "uuid".`},
			},
		},
		{
			name: "engine_version not set",
			files: map[string]string{"main.tf": `# managed by platform
resource "aws_db_instance" "main" {
  engine = "postgres"
}
resource "azurerm_postgresql_flexible_server" "f" {
  name = "f"
}
`},
			want: []facts.EngineVersion{
				{File: "main.tf", Line: 2, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Unresolved: "engine_version is not set (the provider picks the default)"},
				{File: "main.tf", Line: 5, Key: "azurerm_postgresql_flexible_server.f", Label: `azurerm_postgresql_flexible_server "f"`, Engine: "azure-postgres", Unresolved: "version is not set (the provider picks the default)"},
			},
		},
		{
			name: "engine unresolvable",
			files: map[string]string{"main.tf": `variable "engine" {}
resource "aws_db_instance" "main" {
  engine         = var.engine
  engine_version = "14.9"
}
`},
			want: []facts.EngineVersion{{File: "main.tf", Line: 4, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Version: "14.9", Unresolved: "the engine is unknown: var.engine has no default"}},
		},
		{
			name: "non-postgres engines skipped",
			files: map[string]string{"main.tf": `resource "aws_db_instance" "my" {
  engine         = "mysql"
  engine_version = "8.0"
}
resource "aws_rds_cluster" "am" {
  engine         = "aurora-mysql"
  engine_version = "8.0.mysql_aurora.3.05.2"
}
resource "aws_db_instance" "replica" {
  replicate_source_db = aws_db_instance.my.identifier
}
resource "google_sql_database_instance" "m" {
  database_version = "MYSQL_8_0"
}
resource "google_sql_database_instance" "s" {
  database_version = "SQLSERVER_2019_STANDARD"
}
resource "google_sql_database_instance" "tpl" {
  database_version = "MYSQL_${var.v}"
}
resource "aws_s3_bucket" "b" {
  bucket = "b"
}
module "db" {
  source = "./db"
  engine_version = "9.4"
}
`},
		},
		{
			name: "google cloud sql",
			files: map[string]string{"sql.tf": `resource "google_sql_database_instance" "old" {
  name             = "old"
  database_version = "POSTGRES_9_6"
}

resource "google_sql_database_instance" "new" {
  database_version = "POSTGRES_14"
}

variable "pg" {}

resource "google_sql_database_instance" "tpl" {
  database_version = "POSTGRES_${var.pg}"
}
`},
			want: []facts.EngineVersion{
				{File: "sql.tf", Line: 3, Key: "google_sql_database_instance.old", Label: `google_sql_database_instance "old"`, Engine: "cloudsql-postgres", Version: "POSTGRES_9_6", Major: 906},
				{File: "sql.tf", Line: 7, Key: "google_sql_database_instance.new", Label: `google_sql_database_instance "new"`, Engine: "cloudsql-postgres", Version: "POSTGRES_14", Major: 1400},
				{File: "sql.tf", Line: 13, Key: "google_sql_database_instance.tpl", Label: `google_sql_database_instance "tpl"`, Engine: "cloudsql-postgres", Version: "POSTGRES_${var.pg}", Unresolved: "var.pg has no default"},
			},
		},
		{
			name: "not a postgres version",
			files: map[string]string{"main.tf": `resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = "latest"
}
resource "aws_db_instance" "null" {
  engine         = "postgres"
  engine_version = null
}
`},
			want: []facts.EngineVersion{
				{File: "main.tf", Line: 3, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "latest", Unresolved: `engine_version "latest" is not a Postgres version`},
				{File: "main.tf", Line: 7, Key: "aws_db_instance.null", Label: `aws_db_instance "null"`, Engine: "postgres", Version: "null", Unresolved: "engine_version is null (the provider picks the default)"},
			},
		},
		{
			name: "syntax error in one file, the others still read",
			files: map[string]string{
				"broken.tf": `variable "x" {
  default = "1"
}

resource "aws_db_instance" "b" {
  engine = "postgres"
  engine_version = "15
}
`,
				"rds.tf": `resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = "16.2"
}
resource "aws_db_instance" "x" {
  engine         = "postgres"
  engine_version = var.x
}
`},
			want: []facts.EngineVersion{
				{File: "rds.tf", Line: 3, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "16.2", Major: 1600},
				{File: "rds.tf", Line: 7, Key: "aws_db_instance.x", Label: `aws_db_instance "x"`, Engine: "postgres", Version: "var.x", Unresolved: "var.x is not declared in this module (or is in a file that did not parse)"},
			},
			errs: []string{"broken.tf:7"},
		},
		{
			name: "local cycle",
			files: map[string]string{"main.tf": `locals {
  a = local.b
  b = local.a
}
resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = local.a
}
`},
			want: []facts.EngineVersion{{File: "main.tf", Line: 7, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "local.a", Unresolved: "local.a refers to itself"}},
		},
		{
			name: "override file",
			files: map[string]string{
				"main.tf": `variable "v" {
  default = "13"
}
resource "aws_db_instance" "main" {
  engine         = "postgres"
  engine_version = "12.1"
}
resource "aws_db_instance" "other" {
  engine         = "postgres"
  engine_version = var.v
}
`,
				"main_override.tf": `variable "v" {
  default = "14"
}
resource "aws_db_instance" "main" {
  engine_version = "16.1"
}
`},
			want: []facts.EngineVersion{
				{File: "main.tf", Line: 10, Key: "aws_db_instance.other", Label: `aws_db_instance "other"`, Engine: "postgres", Version: "14", Major: 1400},
				{File: "main_override.tf", Line: 5, Key: "aws_db_instance.main", Label: `aws_db_instance "main"`, Engine: "postgres", Version: "16.1", Major: 1600},
			},
		},
		{
			name: "non-tf files ignored",
			files: map[string]string{
				"prod.tfvars": `pg_version = "15"`,
				"README.md":   `resource "aws_db_instance" "x" {`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range tt.files {
				files[k] = []byte(v)
			}
			m, errs := Terraform(files)
			if m == nil {
				t.Fatal("nil manifest")
			}
			var gotErrs []string
			for _, err := range errs {
				var ie *finding.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error %v is not an InputError", err)
				}
				if ie.Msg == "" {
					t.Errorf("input error without message: %v", err)
				}
				gotErrs = append(gotErrs, ie.File+":"+strconv.Itoa(ie.Line))
			}
			if strings.Join(gotErrs, ",") != strings.Join(tt.errs, ",") {
				t.Errorf("errors = %v, want %v (%v)", gotErrs, tt.errs, errs)
			}
			if len(m.Engines) != len(tt.want) {
				for _, e := range m.Engines {
					t.Logf("got %+v", *e)
				}
				t.Fatalf("got %d engines, want %d", len(m.Engines), len(tt.want))
			}
			for i, w := range tt.want {
				if g := *m.Engines[i]; g != w {
					t.Errorf("engine %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
			if len(m.Images) != 0 || len(m.Workloads) != 0 {
				t.Errorf("terraform reported images or workloads: %+v", m)
			}
		})
	}
}

func TestTerraformMajorString(t *testing.T) {
	m, errs := Terraform(map[string][]byte{"sql.tf": []byte(`resource "google_sql_database_instance" "x" {
  database_version = "POSTGRES_9_6"
}`)})
	if len(errs) != 0 || len(m.Engines) != 1 {
		t.Fatalf("got %+v, %v", m, errs)
	}
	if got := m.Engines[0].Major.String(); got != "9.6" {
		t.Errorf("major = %q, want 9.6", got)
	}
	if m.Engines[0].Major != imageref.PGMajor(906) {
		t.Errorf("major = %d", m.Engines[0].Major)
	}
}
