// Command topictail prints a Kafka topic's records from offset zero as JSON lines (partition, offset, key,
// headers, value), for looking at what the relay published; it reads the brokers from KAFKA_BROKERS (as
// .local/env sets it) and stops after -n records or when no record came for -idle.
//
//	go run ./deploy/local/topictail -topic chat.room.events
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	topic := flag.String("topic", "chat.room.events", "topic to read")
	limit := flag.Int("n", 0, "stop after this many records (0: no limit)")
	idle := flag.Duration("idle", 3*time.Second, "stop when no record came for this long")
	flag.Parse()
	if err := run(*topic, *limit, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "topictail:", err)
		os.Exit(1)
	}
}

func run(topic string, limit int, idle time.Duration) error {
	brokers := os.Getenv("KAFKA_BROKERS")
	if brokers == "" {
		return fmt.Errorf("KAFKA_BROKERS is not set: run `set -a; . .local/env; set +a` after `make up`")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	seen := 0
	for limit == 0 || seen < limit {
		pollCtx, cancel := context.WithTimeout(ctx, idle)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil || (fetches.Empty() && pollCtx.Err() != nil) {
			return nil
		}
		var errs []error
		fetches.EachError(func(_ string, _ int32, err error) {
			if err != context.DeadlineExceeded {
				errs = append(errs, err)
			}
		})
		if len(errs) > 0 {
			return errs[0]
		}
		for _, r := range fetches.Records() {
			headers := make(map[string]string, len(r.Headers))
			for _, h := range r.Headers {
				headers[h.Key] = string(h.Value)
			}
			line := map[string]any{
				"partition": r.Partition, "offset": r.Offset, "key": string(r.Key), "headers": headers,
				"value": json.RawMessage(r.Value),
			}
			if !json.Valid(r.Value) {
				line["value"] = string(r.Value)
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			if seen++; limit != 0 && seen >= limit {
				return nil
			}
		}
	}
	return nil
}
