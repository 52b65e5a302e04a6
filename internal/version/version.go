package version

import "runtime/debug"

// Version is set with -ldflags "-X github.com/pyship/pyship/internal/version.Version=v1.2.3".
var Version = ""

// String returns pyship's version: the linker-set one, else the module version, else "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
