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

// stackServers are the local stack's servers, by the PID files `make up` writes under .local/run; Postgres
// counts with its backends (its children).
var stackServers = []string{"moto", "kafka", "opensearch", "postgres"}

// cpuSample is the machine's CPU counters at one moment, to tell how busy the machine was during the load
// (other benchmarks on a shared machine make the figures noisy): every CPU's busy and total ticks
// (/proc/stat), each stack server's own ticks (they serve every client on the machine; moto serves DynamoDB one
// request at a time), and the load average. A counter it could not read is negative or missing.
type cpuSample struct {
	at          time.Time
	busy, total float64
	servers     map[string]float64
	load        string
}

// sampleCPU reads the counters now; it never fails, a counter it cannot read is left out.
func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now(), busy: -1, total: -1, servers: map[string]float64{}, load: "?"}
	if f := strings.Fields(firstLine(readFile("/proc/stat"))); len(f) > 5 && f[0] == "cpu" {
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
	if f := strings.Fields(readFile("/proc/loadavg")); len(f) > 0 {
		s.load = f[0]
	}
	dir, err := benchkit.Dir()
	if err != nil {
		return s
	}
	procs := processes()
	for _, name := range stackServers {
		file := filepath.Join(filepath.Dir(dir), ".local", "run", name+".pid")
		pid, err := strconv.Atoi(strings.TrimSpace(firstLine(readFile(file))))
		if err != nil {
			continue
		}
		if p, ok := procs[pid]; ok {
			s.servers[name] = p.ticks + p.children
			for _, c := range procs {
				if c.ppid == pid {
					s.servers[name] += c.ticks
				}
			}
		}
	}
	return s
}

// proc is one process's parent and CPU ticks (user + system): its own, and its ended children's that it
// waited for (a Postgres server's closed connections).
type proc struct {
	ppid            int
	ticks, children float64
}

// processes returns every process /proc lists, by PID.
func processes() map[int]proc {
	out := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat := readFile("/proc/" + e.Name() + "/stat")
		// The fields after the command name (which may hold spaces) in parentheses: state, ppid, …; utime,
		// stime, cutime and cstime are the 14th to 17th of the line.
		i := strings.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(stat[i+1:])
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		var n [4]float64 // utime, stime, cutime, cstime
		for j := range n {
			n[j], _ = strconv.ParseFloat(f[11+j], 64)
		}
		out[pid] = proc{ppid: ppid, ticks: n[0] + n[1], children: n[2] + n[3]}
	}
	return out
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// readFile returns the file's contents, or "" when it cannot be read.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// until describes the machine between s and a later sample e: how busy its CPUs were, how much of a core each
// stack server used, and the load averages at both ends.
func (s cpuSample) until(e cpuSample) string {
	out := fmt.Sprintf("machine (%d CPUs, shared with whatever else runs):", runtime.NumCPU())
	if s.total >= 0 && e.total > s.total {
		out += fmt.Sprintf(" CPUs %.0f%% busy;", 100*(e.busy-s.busy)/(e.total-s.total))
	}
	var servers []string
	if wall := e.at.Sub(s.at).Seconds(); wall > 0 {
		for _, name := range stackServers {
			before, ok1 := s.servers[name]
			after, ok2 := e.servers[name]
			if ok1 && ok2 {
				servers = append(servers, fmt.Sprintf("%s %.2f", name, (after-before)/userHZ/wall))
			}
		}
	}
	if len(servers) > 0 {
		out += " the stack's servers, in cores (for every client on the machine; moto serves one request at a " +
			"time): " + strings.Join(servers, ", ") + ";"
	}
	return out + fmt.Sprintf(" load average %s at the start, %s at the end", s.load, e.load)
}
