package supervise

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procStart returns the start time (in clock ticks since boot) of pid and whether pid is a
// live, non-zombie process. Together with the pid it identifies a process across pid reuse.
func procStart(pid int) (uint64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name may contain spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	return st, err == nil
}

// procPgid returns the process group of pid (0 when unknown).
func procPgid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0
	}
	g, _ := strconv.Atoi(f[2])
	return g
}

// Alive reports whether the process pid that started at start is still running.
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, ok := procStart(pid)
	return ok && (start == 0 || st == start)
}

// killGroup signals the process group pgid, ignoring groups that are already gone.
func killGroup(pgid int, sig syscall.Signal) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, sig)
	}
}

// groupAlive reports whether any live process remains in process group pgid.
func groupAlive(pgid int) bool {
	found := false
	eachPid(func(pid int) {
		if !found && procPgid(pid) == pgid {
			_, found = procStart(pid)
		}
	})
	return found
}

func eachPid(fn func(pid int)) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			fn(pid)
		}
	}
}

// listeningPorts returns the TCP ports processes of group pgid listen on.
func listeningPorts(pgid int) []int {
	inodes := map[string]bool{}
	eachPid(func(pid int) {
		if procPgid(pid) != pgid {
			return
		}
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
				inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
			}
		}
	})
	seen := map[int]bool{}
	var ports []int
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fl := strings.Fields(sc.Text())
			if len(fl) < 10 || fl[3] != "0A" || !inodes[fl[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(fl[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && !seen[int(p)] {
				seen[int(p)] = true
				ports = append(ports, int(p))
			}
		}
		fh.Close()
	}
	return ports
}

// MarkerVar is the environment variable pyship sets on every replica it starts, valued
// "HOME|ID", so that an agent can find replicas it lost track of.
const MarkerVar = "PYSHIP_REPLICA"

// Marked returns the pids (group leaders only) of live processes whose environment carries
// MarkerVar with the prefix home+"|", keyed by pid, valued by replica id.
func Marked(home string) map[int]string {
	out := map[int]string{}
	prefix := []byte(MarkerVar + "=" + home + "|")
	eachPid(func(pid int) {
		if procPgid(pid) != pid {
			return
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			return
		}
		for _, kv := range bytes.Split(b, []byte{0}) {
			if bytes.HasPrefix(kv, prefix) {
				if _, ok := procStart(pid); ok {
					out[pid] = string(kv[len(prefix):])
				}
			}
		}
	})
	return out
}

// KillGroup ends process group pgid: SIGKILL, used for orphans nobody supervises.
func KillGroup(pgid int) { killGroup(pgid, syscall.SIGKILL) }

// ProcStart returns the start time of the live process pid (false when there is none).
func ProcStart(pid int) (uint64, bool) {
	if pid <= 0 {
		return 0, false
	}
	return procStart(pid)
}
