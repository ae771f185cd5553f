resource "aws_db_instance" "main" {
  identifier     = "shop"
  engine         = "postgres"
  engine_version = "14.9"
  instance_class = "db.t4g.medium"
}
