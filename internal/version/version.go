// Package version holds the build's version, stamped by the linker (see the Makefile).
package version

// Version, Commit and Date are set with -ldflags -X at release builds.
var (
	Version = "dev"
	Commit  = "unknown"
	Date    = "unknown"
)
