// Command kafkameta asks a Kafka cluster for its metadata over the Kafka protocol and prints its brokers and
// topics, like `kcat -L`. The local stack uses it as Kafka's readiness check: it exits non-zero until a broker
// answers a metadata request.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("b", "127.0.0.1:19092", "comma-separated seed brokers")
	timeout := flag.Duration("timeout", 3*time.Second, "how long to wait for an answer")
	quiet := flag.Bool("q", false, "print nothing; only the exit status tells")
	flag.Parse()

	if err := run(strings.Split(*brokers, ","), *timeout, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "kafkameta:", err)
		os.Exit(1)
	}
}

func run(seeds []string, timeout time.Duration, quiet bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RetryTimeout(timeout))
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	defer cl.Close()

	meta, err := kadm.NewClient(cl).Metadata(ctx)
	if err != nil {
		return fmt.Errorf("metadata from %s: %w", strings.Join(seeds, ","), err)
	}
	if len(meta.Brokers) == 0 {
		return fmt.Errorf("metadata from %s lists no broker", strings.Join(seeds, ","))
	}
	if quiet {
		return nil
	}
	fmt.Printf("Metadata for all topics (from cluster %s, controller %d):\n", meta.Cluster, meta.Controller)
	fmt.Printf(" %d brokers:\n", len(meta.Brokers))
	for _, b := range meta.Brokers {
		fmt.Printf("  broker %d at %s:%d\n", b.NodeID, b.Host, b.Port)
	}
	fmt.Printf(" %d topics:\n", len(meta.Topics))
	for _, t := range meta.Topics.Sorted() {
		fmt.Printf("  topic %q with %d partitions\n", t.Topic, len(t.Partitions))
	}
	return nil
}
