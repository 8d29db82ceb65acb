// Stub for golang.org/x/tools: see ../../go.mod.  No package of x/tools is used.
module golang.org/x/tools

go 1.17
