package e2ebench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
)

// userHZ is the kernel's clock ticks per second in /proc (USER_HZ, 100 on Linux everywhere that matters).
const userHZ = 100

// cpuSample is the machine's CPU counters at one moment, to tell how busy the machine was during the load
// (other benchmarks on a shared machine make the figures noisy): every CPU's busy and total ticks
// (/proc/stat), the local moto's own ticks (its PID in .local/run/moto.pid: it serves DynamoDB one request at
// a time, for everyone on the machine), and the load average. A counter it could not read is negative.
type cpuSample struct {
	at          time.Time
	busy, total float64
	moto        float64
	load        string
}

// sampleCPU reads the counters now; it never fails, a counter it cannot read is left negative.
func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now(), busy: -1, total: -1, moto: -1, load: "?"}
	if raw, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(raw), "\n")
		if f := strings.Fields(line); len(f) > 5 && f[0] == "cpu" {
			var ticks []float64
			for _, v := range f[1:] {
				n, _ := strconv.ParseFloat(v, 64)
				ticks = append(ticks, n)
			}
			s.total = 0
			for _, n := range ticks[:min(8, len(ticks))] { // user … steal; guest time is counted in user already
				s.total += n
			}
			s.busy = s.total - ticks[3] - ticks[4] // idle, iowait
		}
	}
	if f := strings.Fields(readFile("/proc/loadavg")); len(f) > 0 {
		s.load = f[0]
	}
	if dir, err := benchkit.Dir(); err == nil {
		pid := strings.TrimSpace(readFile(filepath.Join(filepath.Dir(dir), ".local", "run", "moto.pid")))
		stat := readFile("/proc/" + pid + "/stat")
		// The fields after the command name (which may hold spaces) in parentheses; utime and stime are the
		// 14th and 15th of the line.
		if i := strings.LastIndexByte(stat, ')'); pid != "" && i > 0 {
			if f := strings.Fields(stat[i+1:]); len(f) > 13 {
				u, err1 := strconv.ParseFloat(f[11], 64)
				k, err2 := strconv.ParseFloat(f[12], 64)
				if err1 == nil && err2 == nil {
					s.moto = u + k
				}
			}
		}
	}
	return s
}

// readFile returns the file's contents, or "" when it cannot be read.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// until describes the machine between s and a later sample e: how busy its CPUs were, how much of a core moto
// used, and the load averages at both ends.
func (s cpuSample) until(e cpuSample) string {
	out := fmt.Sprintf("machine (%d CPUs, shared with whatever else runs):", runtime.NumCPU())
	if s.total >= 0 && e.total > s.total {
		out += fmt.Sprintf(" CPUs %.0f%% busy,", 100*(e.busy-s.busy)/(e.total-s.total))
	}
	if wall := e.at.Sub(s.at).Seconds(); s.moto >= 0 && e.moto >= 0 && wall > 0 {
		out += fmt.Sprintf(" moto %.0f%% of a core (it serves one request at a time, for every client),",
			100*(e.moto-s.moto)/userHZ/wall)
	}
	return out + fmt.Sprintf(" load average %s at the start, %s at the end", s.load, e.load)
}
