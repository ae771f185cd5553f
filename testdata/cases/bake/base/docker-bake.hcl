target "pgsql" {
  context = "docker/pgsql"
  tags    = ["acme/pgsql:latest"]
}
