// Package docker runs the upgrade rehearsal's containers through the Docker
// Engine API, spoken directly as HTTP on the daemon's unix socket.
//
// It does not use github.com/docker/docker/client: that module pulls in
// hundreds of transitive packages for the dozen calls breakwater makes, and
// their wire format has not changed since API 1.30 (Docker 17.06). A small
// client plus a fake of the same calls (package dockertest) costs less than
// the dependency.
//
// # Versions
//
// [Client.Ping] reads the daemon's Api-Version and pins every later call to
// the smaller of that and 1.47, the version whose request and response
// shapes this package is written against, so that a newer daemon cannot
// change them underneath it. Daemons older than 1.30 are refused (wait
// conditions need it). Before Ping, or when the daemon sends no version,
// paths are unversioned and the daemon uses its own current version.
//
// # Errors
//
// A 4xx or 5xx answer is an [*APIError] that carries the daemon's message;
// [IsNotFound] tells a missing image, container, volume or exec apart.
// Removing something that is already gone, and starting or stopping a
// container that already is in that state, are not errors.
package docker
