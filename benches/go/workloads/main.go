// Command workloads is the Go side of gort's benchmarks: the same workloads, with the same
// parameters, as gort-benches' `workloads` binary and its `rt_multi_threaded` criterion benches.
//
// Usage:
//
//	workloads [-warmup D] [-measure D] <name>
//
// A DESIGN.md §7 workload name (spawn200k, chained100k, yield1000x200, echo50x2000) runs that
// workload once and prints `RESULT <name> go <value> <unit>`, like `workloads <gort|tokio> <name>`
// in Rust; see that file's doc for how each is timed (a driver goroutine started by main does the
// work and sends back the elapsed time; the completion signal is a channel with a buffer of 1).
//
// An `rt_<bench>` name runs the Go translation of tokio's rt_multi_threaded bench of that name
// (rt_spawn_many_local, rt_yield_many, rt_chained_spawn, rt_ping_pong) repeatedly, for -warmup
// and then -measure (criterion's defaults: 3s and 5s), and prints the median time per iteration
// as `RESULT <name> go <value> ns/iter`. tokio's `block_on` body becomes the main goroutine, which
// like gort's block_on thread holds a P; std channels become buffered Go channels and tokio's
// oneshot channels become unbuffered Go channels. The spawn_many_remote_* benches do not
// translate: Go has no way to start a goroutine from outside the scheduler.
//
// GOMAXPROCS is set to numWorkers, the worker count of the Rust side.
//
// Build from benches/go with `go build -o bin/workloads ./workloads`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"time"
)

// numWorkers is GOMAXPROCS, equal to gort_benches::NUM_WORKERS: the benchmark machine has 2
// cores.
const numWorkers = 2

// DESIGN.md §7 workload parameters, as in src/bin/workloads.rs.
const (
	spawnTasks     = 200_000 // goroutines started by spawn200k
	chainDepth     = 100_000 // goroutines in the chain of chained100k, each starting the next
	yieldTasks     = 1_000   // goroutines in yield1000x200
	yieldsPerTask  = 200     // runtime.Gosched calls per goroutine in yield1000x200
	echoConns      = 50      // client connections in echo50x2000, one echo goroutine each
	echoRoundTrips = 2_000   // round trips per echo50x2000 client
	echoMsgLen     = 64      // bytes of one echo50x2000 message, each way
)

// echoRequest is the message every echo50x2000 request carries; the client checks the echo
// against it. As ECHO_REQUEST in Rust: echoMsgLen bytes of 'x'.
var echoRequest = bytes.Repeat([]byte{'x'}, echoMsgLen)

// tokio's rt_multi_threaded constants, as in benches/rt_multi_threaded.rs.
const (
	numSpawn       = 10_000 // spawn_many_local: goroutines per iteration
	numYield       = 1_000  // yield_many: Gosched calls per goroutine
	yieldManyTasks = 200    // yield_many: goroutines per iteration
	numPings       = 1_000  // ping_pong: pairs per iteration
	chainedIter    = 1_000  // chained_spawn: chain length
)

// minSamples is the fewest iterations an rt_ bench measures, however long each takes.
const minSamples = 10

// workload is one DESIGN.md §7 row: the elapsed time of run is divided by ops, then by unitNs
// (the nanoseconds in the time part of unit: 1 for ns, 1000 for µs).
type workload struct {
	name   string
	unit   string
	unitNs float64
	ops    int
	run    func() time.Duration
}

// workloads lists every DESIGN.md §7 workload this program knows.
var workloads = []workload{
	{"spawn200k", "ns/task", 1, spawnTasks, spawn200k},
	{"chained100k", "ns/task", 1, chainDepth, chained100k},
	{"yield1000x200", "ns/yield", 1, yieldTasks * yieldsPerTask, yield1000x200},
	{"echo50x2000", "µs/round trip", 1000, echoConns * echoRoundTrips, echo50x2000},
}

// rtBenches maps each translated rt_multi_threaded bench to one iteration of its body.
var rtBenches = map[string]func(){
	"rt_spawn_many_local": rtSpawnManyLocal,
	"rt_yield_many":       rtYieldMany,
	"rt_chained_spawn":    rtChainedSpawn,
	"rt_ping_pong":        rtPingPong,
}

func main() {
	warmup := flag.Duration("warmup", 3*time.Second, "rt_ benches: warm-up time")
	measure := flag.Duration("measure", 5*time.Second, "rt_ benches: measurement time")
	flag.Usage = usage
	flag.Parse()
	if flag.NArg() != 1 {
		usage()
		os.Exit(2)
	}
	name := flag.Arg(0)
	runtime.GOMAXPROCS(numWorkers)

	for _, w := range workloads {
		if w.name == name {
			perOp := float64(inDriverGoroutine(w.run).Nanoseconds()) / float64(w.ops) / w.unitNs
			fmt.Printf("RESULT %s go %.1f %s\n", name, perOp, w.unit)
			return
		}
	}
	if iter, ok := rtBenches[name]; ok {
		median := medianIteration(iter, *warmup, *measure)
		fmt.Printf("RESULT %s go %d ns/iter\n", name, median.Nanoseconds())
		return
	}
	usage()
	os.Exit(2)
}

// usage prints how to call this program.
func usage() {
	fmt.Fprintln(os.Stderr, "usage: workloads [-warmup D] [-measure D] <name>")
	fmt.Fprint(os.Stderr, "names:")
	for _, w := range workloads {
		fmt.Fprint(os.Stderr, " ", w.name)
	}
	names := make([]string, 0, len(rtBenches))
	for name := range rtBenches {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprint(os.Stderr, " ", name)
	}
	fmt.Fprintln(os.Stderr)
	flag.PrintDefaults()
}

// inDriverGoroutine runs body in a new goroutine and returns the elapsed time it measured: main
// only waits, as the Rust side's block_on only awaits the driver task.
func inDriverGoroutine(body func() time.Duration) time.Duration {
	result := make(chan time.Duration)
	go func() { result <- body() }()
	return <-result
}

// countdown counts finished goroutines down to zero; the one that reaches zero signals done.
type countdown struct {
	remaining atomic.Int64
	done      chan struct{}
}

// newCountdown expects tasks calls to tick.
func newCountdown(tasks int) *countdown {
	c := &countdown{done: make(chan struct{}, 1)}
	c.remaining.Store(int64(tasks))
	return c
}

// tick marks one goroutine finished; the last one signals done.
func (c *countdown) tick() {
	if c.remaining.Add(-1) == 0 {
		c.done <- struct{}{}
	}
}

// spawn200k starts spawnTasks goroutines that each tick a countdown; timed from before the first
// go statement until the driver has received the last goroutine's signal.
func spawn200k() time.Duration {
	c := newCountdown(spawnTasks)
	start := time.Now()
	for i := 0; i < spawnTasks; i++ {
		go c.tick()
	}
	<-c.done
	return time.Since(start)
}

// chain starts the rest of the chained100k chain: a goroutine that continues with remaining-1,
// or, when nothing remains, signals done.
func chain(remaining int, done chan<- struct{}) {
	if remaining == 0 {
		done <- struct{}{}
	} else {
		go chain(remaining-1, done)
	}
}

// chained100k is chainDepth strictly sequential go statements, each goroutine starting the
// next; timed from the first go statement until the driver has received the last one's signal.
func chained100k() time.Duration {
	done := make(chan struct{}, 1)
	start := time.Now()
	chain(chainDepth, done)
	<-done
	return time.Since(start)
}

// yield1000x200 starts yieldTasks goroutines that each call runtime.Gosched yieldsPerTask times
// and then tick a countdown; timed from before the first go statement (starting them is
// included) until the driver has received the last goroutine's signal.
func yield1000x200() time.Duration {
	c := newCountdown(yieldTasks)
	start := time.Now()
	for i := 0; i < yieldTasks; i++ {
		go func() {
			for j := 0; j < yieldsPerTask; j++ {
				runtime.Gosched()
			}
			c.tick()
		}()
	}
	<-c.done
	return time.Since(start)
}

// echo50x2000 binds a listener on 127.0.0.1 (port 0) before the clock starts. Timed: a goroutine
// accepts echoConns connections and starts one echo goroutine for each (read up to echoMsgLen
// bytes, write them back, until the client closes); echoConns client goroutines each dial and do
// echoRoundTrips round trips (write echoMsgLen bytes, io.ReadFull as many back, check them), then
// tick the countdown. Go sets TCP_NODELAY on every TCP connection already; the clients set it
// again only to mirror the Rust side, which sets it on both ends.
func echo50x2000() time.Duration {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := listener.Addr().String()
	c := newCountdown(echoConns)
	start := time.Now()
	go func() {
		for i := 0; i < echoConns; i++ {
			conn, err := listener.Accept()
			if err != nil {
				panic(err)
			}
			go echo(conn)
		}
	}()
	for i := 0; i < echoConns; i++ {
		go func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				panic(err)
			}
			if err := conn.(*net.TCPConn).SetNoDelay(true); err != nil {
				panic(err)
			}
			reply := make([]byte, echoMsgLen)
			for j := 0; j < echoRoundTrips; j++ {
				if _, err := conn.Write(echoRequest); err != nil {
					panic(err)
				}
				if _, err := io.ReadFull(conn, reply); err != nil {
					panic(err)
				}
				if !bytes.Equal(reply, echoRequest) {
					panic("the echo differs from the request")
				}
			}
			conn.Close()
			c.tick()
		}()
	}
	<-c.done
	return time.Since(start)
}

// echo is one echo50x2000 server goroutine: it writes back what it reads until the client closes.
func echo(conn net.Conn) {
	defer conn.Close()
	buf := make([]byte, echoMsgLen)
	for {
		n, err := conn.Read(buf)
		if err == io.EOF {
			return // the client closed: its round trips are done
		}
		if err != nil {
			panic(err)
		}
		if _, err := conn.Write(buf[:n]); err != nil {
			panic(err)
		}
	}
}

// medianIteration runs iter for warmup, then for at least measure and minSamples iterations,
// and returns the median duration of one measured iteration.
func medianIteration(iter func(), warmup, measure time.Duration) time.Duration {
	for start := time.Now(); time.Since(start) < warmup; {
		iter()
	}
	var samples []time.Duration
	for start := time.Now(); time.Since(start) < measure || len(samples) < minSamples; {
		t := time.Now()
		iter()
		samples = append(samples, time.Since(t))
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	return samples[len(samples)/2]
}

// rtSpawnManyLocal is tokio's spawn_many_local: numSpawn goroutines started by main, each
// counting down; the last one wakes main.
func rtSpawnManyLocal() {
	var rem atomic.Int64
	rem.Store(numSpawn)
	done := make(chan struct{}, 1000)
	for i := 0; i < numSpawn; i++ {
		go func() {
			if rem.Add(-1) == 0 {
				done <- struct{}{}
			}
		}()
	}
	<-done
}

// rtYieldMany is tokio's yield_many: yieldManyTasks goroutines each calling runtime.Gosched
// numYield times; main waits for all of them.
func rtYieldMany() {
	done := make(chan struct{}, yieldManyTasks)
	for i := 0; i < yieldManyTasks; i++ {
		go func() {
			for j := 0; j < numYield; j++ {
				runtime.Gosched()
			}
			done <- struct{}{}
		}()
	}
	for i := 0; i < yieldManyTasks; i++ {
		<-done
	}
}

// rtPingPong is tokio's ping_pong: main starts one goroutine that starts numPings pairs; each
// pair does one round trip over two unbuffered channels, and the last pair wakes main.
func rtPingPong() {
	var rem atomic.Int64
	rem.Store(numPings)
	done := make(chan struct{}, 1000)
	go func() {
		for i := 0; i < numPings; i++ {
			go func() {
				c1 := make(chan struct{})
				c2 := make(chan struct{})
				go func() {
					<-c1
					c2 <- struct{}{}
				}()
				c1 <- struct{}{}
				<-c2
				if rem.Add(-1) == 0 {
					done <- struct{}{}
				}
			}()
		}
	}()
	<-done
}

// rtChain is tokio's chained_spawn `iter`: a goroutine that continues with n-1, or, at 0,
// wakes main.
func rtChain(done chan<- struct{}, n int) {
	if n == 0 {
		done <- struct{}{}
	} else {
		go rtChain(done, n-1)
	}
}

// rtChainedSpawn is tokio's chained_spawn: main starts a chain of chainedIter+1 goroutines and
// waits for the last one.
func rtChainedSpawn() {
	done := make(chan struct{}, 1000)
	go rtChain(done, chainedIter)
	<-done
}
