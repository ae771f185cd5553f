variable "pg_version" {
  type = string
}

resource "aws_db_instance" "main" {
  engine = "postgres"
  # want postgres/unknown-version
  engine_version = var.pg_version
}
