module custody/interop

go 1.19

require golang.org/x/mod v0.7.0

// The Debian package golang-golang-x-mod-dev: the build never touches the network.
replace golang.org/x/mod => /usr/share/gocode/src/golang.org/x/mod

// x/mod's go.mod requires golang.org/x/tools v0.1.12, which sumdb/note and sumdb/tlog do not
// use.  `go build` never reads that go.mod (x/mod is a go >= 1.17 module, so its dependencies'
// requirements are pruned), but commands that load the whole module graph (`go list -m all`,
// `go mod tidy`) would try to fetch it.  This stub (a go.mod and nothing else) answers them
// offline; replaced modules in local directories need no go.sum lines, so there is no go.sum.
replace golang.org/x/tools => ./stub/x-tools
