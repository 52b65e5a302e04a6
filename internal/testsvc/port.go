package testsvc

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Test ports come from a range outside Linux's default ephemeral range (32768–60999), so the
// kernel never hands one out for a `:0` listener or an outgoing connection, and away from the
// fixed ports of scripts/services (5000, 5443, 7070, 12379, 15432, 16443, 20247–20259, 9090).
// Test processes of different packages run at once, so each port is reserved by an exclusive
// lock on a file of its own, held until the test ends: a port is never picked, released and
// then taken by another test before it is used.
const (
	portLow  = 21000
	portHigh = 32000
)

// Port reserves a free TCP port on 127.0.0.1 for the rest of the test. The port is closed
// (something else, such as an agent's proxy, is to listen on it) but no other test of any
// package on this machine is handed it meanwhile, and it is not in the ephemeral range.
func Port(t testing.TB) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "pyship-test-ports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := portLow + rand.IntN(portHigh-portLow)
	for i := range portHigh - portLow {
		p := portLow + (start-portLow+i)%(portHigh-portLow)
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil { // held by something outside the tests, or an earlier test's leftover
			f.Close()
			continue
		}
		ln.Close()
		t.Cleanup(func() { f.Close() })
		return p
	}
	t.Fatalf("no free test port in %d-%d", portLow, portHigh)
	return 0
}
