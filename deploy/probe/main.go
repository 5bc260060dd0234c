// Command probe is the health check of the service images, which have no shell or curl: `probe URL` GETs URL
// and exits 0 when it answers 200 within 3 seconds, 1 otherwise (the reason on stderr).
//
//	probe http://127.0.0.1:8080/readyz
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// timeout bounds the whole request: a health check that hangs counts as a failure.
const timeout = 3 * time.Second

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run probes the URL in args and returns the exit code, writing why it failed to stderr.
func run(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: probe URL")
		return 2
	}
	if err := probe(args[0]); err != nil {
		fmt.Fprintf(stderr, "probe: %v\n", err)
		return 1
	}
	return 0
}

// probe returns nil when url answers a GET with 200, else an error naming the status or the failure.
func probe(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", url, resp.StatusCode)
	}
	return nil
}
