package e2ebench

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// clientNice is the scheduling priority (nice value) the benchmark's own threads take for the load: above the
// services and the stack's servers, which stay at 0.
const clientNice = -10

// raisePriority gives every thread of this process the nice value clientNice and says what it did. The
// benchmark is the pipeline's clients, which in production run on other machines: on a shared 2-core machine
// the clients would otherwise queue behind the servers for a CPU, wake late for their ticks and see answers late,
// charging the pipeline for the client's starvation. Linux keeps a nice value per thread and a new thread takes
// its creator's, so the threads Go starts later follow; the services were started before, as children at 0.
// Without the privilege (CAP_SYS_NICE) the benchmark runs at the priority it has and the note says so.
func raisePriority() string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Sprintf("client priority not raised (%v)", err)
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, clientNice); err != nil {
			return fmt.Sprintf("client priority not raised (%v)", err)
		}
	}
	return fmt.Sprintf("the benchmark's threads at nice %d, above the services and servers at 0", clientNice)
}
