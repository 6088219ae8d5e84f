// Command workloads is the Go side of gort's benchmarks: the same workloads, with the same
// parameters, as gort-benches' `workloads` binary and its `rt_multi_threaded` criterion benches.
//
// Usage:
//
//	workloads [-warmup D] [-measure D] <name>
//
// A DESIGN.md §7 workload name (spawn200k, chained100k, yield1000x200, the channel workloads
// pingpong1, pingpong_main, pingpong1000x100, mpsc4x1024 and parked200k, sleeps100k, sleep100us,
// echo50x2000, blocking2000, the timer workloads timer_cancel1m and timer_fire1m, the
// blocking-in-place workloads ticker_block200 and block_in_place_fast, and the GC workloads
// gc_pause and cycles100k) runs that workload once
// and prints `RESULT <name> go <value> <unit>`, or one
// `RESULT <name>.<metric> go <value> <unit>` line per number for a workload with several
// (sleep100us: median and p99), like `workloads <gort|tokio> <name>` in Rust; see that file's
// doc for how each is timed (a driver goroutine started by main does the work and sends back
// what it measured; the completion signal is a channel with a buffer of 1). pingpong_main is the
// exception: it runs in the main goroutine itself, as its Rust side runs in the block_on future.
// `WARNING` lines flag a suspect number, as in Rust.
//
// An `rt_<bench>` name runs the Go translation of tokio's rt_multi_threaded bench of that name
// (rt_spawn_many_local, rt_yield_many, rt_chained_spawn, rt_ping_pong) repeatedly, for -warmup
// and then -measure (criterion's defaults: 3s and 5s), and prints the median time per iteration
// as `RESULT <name> go <value> ns/iter`. tokio's `block_on` body becomes the main goroutine, which
// like gort's block_on thread holds a P; std channels become buffered Go channels and tokio's
// oneshot channels become unbuffered Go channels. The spawn_many_remote_* benches do not
// translate: Go has no way to start a goroutine from outside the scheduler.
//
// GOMAXPROCS is set to numWorkers, the worker count of the Rust side (ticker_block200, which runs
// on one worker there, sets it to 1).
//
// Build from benches/go with `go build -o bin/workloads ./workloads`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	blockingCalls  = 2_000   // blocking calls blocking2000 starts at once

	pingPongs     = 200_000   // round trips of pingpong1 and pingpong_main
	pingPairs     = 1_000     // pairs of goroutines in pingpong1000x100
	pingsPerPair  = 100       // round trips each pingpong1000x100 pair does
	mpscProducers = 4         // goroutines sending into the one mpsc4x1024 channel
	mpscCap       = 1_024     // capacity of the mpsc4x1024 channel
	mpscMessages  = 1_000_000 // messages mpsc4x1024 sends in all, mpscMessages/mpscProducers each
	parkedTasks   = 200_000   // goroutines parked200k parks, each on its own channel

	shortSleeps = 2_000                  // sleeps sleep100us performs one after the other
	shortSleep  = 100 * time.Microsecond // what each sleep100us sleep asks for
	sleepTasks  = 100_000                // goroutines in sleeps100k, each sleeping once
	sleepMaxMs  = 50                     // longest sleeps100k sleep in ms (uniform in 1..=50)
	sleepSeed   = 1                      // seed of sleepLengths, as SLEEP_SEED in Rust
	cancelPairs = 1_000_000              // timers timer_cancel1m creates and stops
	cancelSleep = time.Second            // what each timer_cancel1m timer is set for
	cancelBatch = 100                    // timer_cancel1m yields after every this many pairs
	fireTasks   = 1_000_000              // goroutines in timer_fire1m, one timer each

	tick             = time.Millisecond       // each ticker_block200 tick is one sleep this long
	ticksBeforeBlock = 50 * time.Millisecond  // ticker_block200 ticks this long before the block
	tickerBlock      = 200 * time.Millisecond // how long the ticker_block200 blocking call lasts
	ticksAfterBlock  = 50 * time.Millisecond  // ticker_block200 ticks this long after the block
	inPlaceCalls     = 1_000_000              // getpid calls block_in_place_fast makes each way
	inPlaceBatch     = 100                    // block_in_place_fast times its calls in batches

	gcCollections = 21      // runtime.GC calls gc_pause times on each ring
	selfCycles    = 100_000 // channels cycles100k makes, each sent itself and let go
)

// blockingCall is how long each blocking2000 call blocks its thread, as BLOCKING_CALL in Rust.
const blockingCall = time.Millisecond

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

// metric is one number a workload reports, one RESULT line: name is empty for a workload's only
// number, else the part after the dot in `RESULT <workload>.<name>`.
type metric struct {
	name  string
	value float64
	unit  string
}

// workload is one DESIGN.md §7 row (or a few, for a workload with several metrics): run does the
// work in the driver goroutine and returns its numbers.
type workload struct {
	name string
	run  func() []metric
}

// workloads lists every workload this program knows, in the order of DESIGN.md §7, then the timer
// workloads, the blocking-in-place workloads and the GC workloads, which have no row there.
var workloads = []workload{
	{"spawn200k", perOp(spawn200k, spawnTasks, 1, "ns/task")},
	{"chained100k", perOp(chained100k, chainDepth, 1, "ns/task")},
	{"yield1000x200", perOp(yield1000x200, yieldTasks*yieldsPerTask, 1, "ns/yield")},
	{"pingpong1", perOp(pingPong, pingPongs, 1, "ns/round trip")},
	{"pingpong_main", perOp(pingPong, pingPongs, 1, "ns/round trip")},
	{"pingpong1000x100", perOp(pingPong1000x100, pingPairs*pingsPerPair, 1, "ns/round trip")},
	{"mpsc4x1024", perOp(mpsc4x1024, mpscMessages, 1, "ns/msg")},
	{"sleeps100k", sleeps100k},
	{"sleep100us", sleep100us},
	{"parked200k", parked200k},
	{"echo50x2000", perOp(echo50x2000, echoConns*echoRoundTrips, 1000, "µs/round trip")},
	{"blocking2000", perOp(blocking2000, 1, 1e6, "ms")},
	{"timer_cancel1m", perOp(timerCancel1m, cancelPairs, 1, "ns/pair")},
	{"timer_fire1m", perOp(timerFire1m, fireTasks, 1, "ns/timer")},
	{"ticker_block200", tickerBlock200},
	{"block_in_place_fast", blockInPlaceFast},
	{"gc_pause", gcPause},
	{"cycles100k", cycles100k},
}

// inMainGoroutine lists the workloads that run in the main goroutine rather than in a driver
// goroutine: pingpong_main, whose Rust side pings from the block_on future itself.
var inMainGoroutine = map[string]bool{"pingpong_main": true}

// perOp makes a workload's run out of body, which returns an elapsed time: its only metric is that
// time divided by ops, then by unitNs (the nanoseconds in the time part of unit: 1 for ns, 1000
// for µs, 1e6 for ms).
func perOp(body func() time.Duration, ops int, unitNs float64, unit string) func() []metric {
	return func() []metric {
		return []metric{{"", float64(body().Nanoseconds()) / float64(ops) / unitNs, unit}}
	}
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
			run := inDriverGoroutine
			if inMainGoroutine[name] {
				run = func(body func() []metric) []metric { return body() }
			}
			for _, m := range run(w.run) {
				key := name
				if m.name != "" {
					key += "." + m.name
				}
				fmt.Printf("RESULT %s go %.1f %s\n", key, m.value, m.unit)
			}
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

// inDriverGoroutine runs body in a new goroutine and returns what it measured: main only waits,
// as the Rust side's block_on only awaits the driver task.
func inDriverGoroutine(body func() []metric) []metric {
	result := make(chan []metric)
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

// pingPong is pingpong1 in the driver goroutine and pingpong_main in the main goroutine, as
// ping_pong in Rust: it makes two unbuffered channels, starts a ponger goroutine that sends back
// every message of the first on the second until the first is closed, and does pingPongs round
// trips (send i, receive the echo, check it); timed from before the go statement until the last
// echo has arrived. Closing the first channel afterwards ends the ponger.
func pingPong() time.Duration {
	ping := make(chan uint64)
	pong := make(chan uint64)
	start := time.Now()
	go ponger(ping, pong)
	for i := uint64(0); i < pingPongs; i++ {
		ping <- i
		if <-pong != i {
			panic("the ponger echoed another message")
		}
	}
	elapsed := time.Since(start)
	close(ping)
	return elapsed
}

// ponger is the ponging side of the ping-pong workloads: it sends back every message it receives
// on ping until ping is closed.
func ponger(ping <-chan uint64, pong chan<- uint64) {
	for msg := range ping {
		pong <- msg
	}
}

// pingPong1000x100 starts pingPairs pairs of goroutines, each pair on its own two unbuffered
// channels: a ponger, then a pinger that does pingsPerPair round trips as in pingPong, closes its
// ping channel (ending its ponger) and ticks the countdown. Timed from before the first channel is
// made until the driver has the last pinger's signal.
func pingPong1000x100() time.Duration {
	c := newCountdown(pingPairs)
	start := time.Now()
	for i := 0; i < pingPairs; i++ {
		ping := make(chan uint64)
		pong := make(chan uint64)
		go ponger(ping, pong)
		go func() {
			for j := uint64(0); j < pingsPerPair; j++ {
				ping <- j
				if <-pong != j {
					panic("the ponger echoed another message")
				}
			}
			close(ping)
			c.tick()
		}()
	}
	<-c.done
	return time.Since(start)
}

// mpsc4x1024 makes a channel with a buffer of mpscCap, starts mpscProducers goroutines that each
// send mpscMessages/mpscProducers messages into it, and receives mpscMessages in the driver;
// timed from before the first go statement until the last message is in. The driver counts
// messages rather than waiting for a close, which with several senders would need a WaitGroup.
func mpsc4x1024() time.Duration {
	ch := make(chan uint64, mpscCap)
	start := time.Now()
	for i := 0; i < mpscProducers; i++ {
		go func() {
			for j := uint64(0); j < mpscMessages/mpscProducers; j++ {
				ch <- j
			}
		}()
	}
	for i := 0; i < mpscMessages; i++ {
		<-ch
	}
	return time.Since(start)
}

// parked200k is what an idle goroutine blocked on a channel costs in memory, as parked200k in
// Rust (whose doc says why each goroutine has a channel of its own): the driver reads the
// resident set (rssBytes), then makes parkedTasks unbuffered channels, keeping each in a slice
// made beforehand, and starts one goroutine per channel that ticks a countdown and receives from
// it. Once every goroutine has ticked, the driver reads the resident set again and reports the
// growth per goroutine in bytes; then it closes every channel and waits for all goroutines to
// finish. Go cannot tick after parking, so the last goroutines may tick just before they block;
// their stacks and channels exist by then, which is what is measured.
func parked200k() []metric {
	chans := make([]chan uint64, parkedTasks)
	parked := newCountdown(parkedTasks)
	done := newCountdown(parkedTasks)
	before := rssBytes()
	for i := range chans {
		ch := make(chan uint64)
		chans[i] = ch
		go func() {
			parked.tick()
			if _, ok := <-ch; ok {
				panic("a message on a channel nobody sends on")
			}
			done.tick()
		}()
	}
	<-parked.done
	after := rssBytes()
	for _, ch := range chans {
		close(ch)
	}
	<-done.done
	return []metric{{"", (float64(after) - float64(before)) / parkedTasks, "B/task"}}
}

// rssBytes is the resident set size of this process in bytes, from the VmRSS line of
// /proc/self/status (in kB), as rss_bytes in Rust. runtime.MemStats would count what Go has
// reserved rather than what is resident, which the Rust side cannot match.
func rssBytes() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		// "VmRSS:	   12345 kB"
		if fields := strings.Fields(line); len(fields) == 3 && fields[0] == "VmRSS:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				panic(err)
			}
			return kb * 1024
		}
	}
	panic("no VmRSS line in /proc/self/status")
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

// blocking2000 starts blockingCalls goroutines that each block their OS thread in one
// blockingCall nanosleep system call, all at once, and waits for all of them with a
// sync.WaitGroup; timed from before the first go statement until Wait returns, reported in ms.
//
// This measures Go's handoff, its counterpart of spawn_blocking: a goroutine in a system call
// keeps its M (OS thread) but not, for long, its P. sysmon takes the P away from an M that has
// been in a syscall for at least one sysmon tick (20 µs, longer once sysmon backs off) and hands
// it to another M, started if none is idle, which runs the next goroutine into its own syscall.
// With GOMAXPROCS=2, each sysmon round frees at most 2 Ps, so getting all 2000 calls into their
// syscalls can take up to about 1000 rounds: the figure is set by sysmon's rounds and M
// start-up, not by a pool (Go has no 512-thread cap, only its 10000-thread limit, so no call
// waits for a thread).
func blocking2000() time.Duration {
	var wg sync.WaitGroup
	wg.Add(blockingCalls)
	start := time.Now()
	for i := 0; i < blockingCalls; i++ {
		go func() {
			blockingSleep(blockingCall)
			wg.Done()
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// blockingSleep blocks the calling OS thread for d in the nanosleep system call, resuming with
// the time left when a signal interrupts it, as Rust's std::thread::sleep does. Unlike
// time.Sleep, which parks only the goroutine on a runtime timer, syscall.Nanosleep goes through
// syscall.Syscall, so the runtime sees a goroutine blocked in a system call.
func blockingSleep(d time.Duration) {
	request := syscall.NsecToTimespec(d.Nanoseconds())
	var left syscall.Timespec
	for {
		err := syscall.Nanosleep(&request, &left)
		if err == nil {
			return
		}
		if err != syscall.EINTR {
			panic(err)
		}
		request = left
	}
}

// percentile is the k-th percentile of sorted by nearest rank: the smallest sample with at least
// k% of the samples at or below it (k = 50: the lower median), as percentile in Rust.
func percentile(sorted []time.Duration, k int) time.Duration {
	return sorted[(len(sorted)*k+99)/100-1]
}

// micros is d in µs, as the timer workloads print it.
func micros(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e3
}

// sleep100us calls time.Sleep(shortSleep) shortSleeps times in a row in the driver goroutine,
// timing each from just before the call to just after it returns; reports the median and the
// p99 of those actual lengths, in µs.
func sleep100us() []metric {
	actual := make([]time.Duration, 0, shortSleeps)
	for i := 0; i < shortSleeps; i++ {
		start := time.Now()
		time.Sleep(shortSleep)
		actual = append(actual, time.Since(start))
	}
	sort.Slice(actual, func(i, j int) bool { return actual[i] < actual[j] })
	return []metric{
		{"median", micros(percentile(actual, 50)), "µs"},
		{"p99", micros(percentile(actual, 99)), "µs"},
	}
}

// sleepLengths returns the generator of the sleeps100k sleep lengths: Knuth's MMIX linear
// congruential generator from sleepSeed, each step's top 31 bits mapped to 1..=sleepMaxMs ms; the
// same generator as SleepLengths in Rust, so the k-th goroutine sleeps as long as the k-th task
// there.
func sleepLengths() func() time.Duration {
	state := uint64(sleepSeed)
	return func() time.Duration {
		state = state*6364136223846793005 + 1442695040888963407
		return time.Duration(1+(state>>33)%sleepMaxMs) * time.Millisecond
	}
}

// sleeps100k starts sleepTasks goroutines, the k-th sleeping the k-th of sleepLengths (1 to
// 50 ms); each times its sleep from just before time.Sleep to just after and adds actual minus
// requested to a sum and a max, before it ticks the countdown. Reports the mean and the max
// lateness in µs.
func sleeps100k() []metric {
	nextLength := sleepLengths()
	c := newCountdown(sleepTasks)
	var sumNs, early atomic.Int64
	var maxNs atomic.Int64
	maxNs.Store(math.MinInt64)
	for i := 0; i < sleepTasks; i++ {
		requested := nextLength()
		go func() {
			start := time.Now()
			time.Sleep(requested)
			late := int64(time.Since(start) - requested)
			sumNs.Add(late)
			for old := maxNs.Load(); late > old && !maxNs.CompareAndSwap(old, late); {
				old = maxNs.Load()
			}
			if late < 0 {
				early.Add(1)
			}
			c.tick()
		}()
	}
	<-c.done
	if n := early.Load(); n > 0 {
		fmt.Printf("WARNING sleeps100k: %d sleeps completed before their length had passed\n", n)
	}
	return []metric{
		{"mean", float64(sumNs.Load()) / sleepTasks / 1e3, "µs"},
		{"max", float64(maxNs.Load()) / 1e3, "µs"},
	}
}

// timerCancel1m, in the driver goroutine, cancelPairs times starts a timer of cancelSleep with
// time.NewTimer (which puts it in the P's timer heap, as the first poll of a Rust Sleep does)
// and stops it before it fires, calling runtime.Gosched after every cancelBatch pairs, as the
// Rust side yields for tokio's coop budget; timed from before the first pair to after the last.
func timerCancel1m() time.Duration {
	start := time.Now()
	for i := 0; i < cancelPairs/cancelBatch; i++ {
		for j := 0; j < cancelBatch; j++ {
			t := time.NewTimer(cancelSleep)
			if !t.Stop() {
				panic("a 1 s timer fired at once")
			}
		}
		runtime.Gosched()
	}
	return time.Since(start)
}

// fireDelay is how far the timer_fire1m deadline is from the moment the gate opens, as
// FIRE_DELAY in Rust: enough for every goroutine to get past the gate and arm its timer.
const fireDelay = 4 * time.Second

// timerFire1m measures what firing one timer costs when a million fire together (the Rust doc
// explains the design). Untimed set-up: the driver starts fireTasks goroutines, each waiting at a
// gate (a channel), then closes the gate with a deadline fireDelay ahead. Each goroutine ticks
// armed and then time.Sleeps until the deadline, then ticks done; Go cannot arm a timer without
// blocking on it, so the tick comes just before time.Sleep arms, not just after as in Rust. The
// result is (the driver's clock after the last goroutine finished - deadline) / goroutines.
func timerFire1m() time.Duration {
	armed := newCountdown(fireTasks)
	done := newCountdown(fireTasks)
	var unarmed atomic.Int64
	gate := make(chan struct{})
	var deadline time.Time // written before close(gate), read after it
	for i := 0; i < fireTasks; i++ {
		go func() {
			<-gate
			wait := time.Until(deadline)
			if wait <= 0 {
				unarmed.Add(1)
			}
			armed.tick()
			time.Sleep(wait)
			done.tick()
		}()
	}
	deadline = time.Now().Add(fireDelay)
	close(gate)
	<-armed.done
	armedAt := time.Now()
	<-done.done
	finished := time.Now()
	if armedAt.After(deadline) {
		fmt.Printf("WARNING timer_fire1m: arming ended %v after the deadline; raise fireDelay\n",
			armedAt.Sub(deadline))
	}
	if n := unarmed.Load(); n > 0 {
		fmt.Printf("WARNING timer_fire1m: %d goroutines reached time.Sleep after the deadline\n", n)
	}
	return finished.Sub(deadline)
}

// tickerBlock200 measures how late a 1 ms ticker runs while another goroutine blocks its thread
// for 200 ms, with GOMAXPROCS=1 as the Rust side's one worker; it reports the p99 and the max
// tick lateness in µs over the ticks that end after the block started (the Rust doc says why
// those).
//
// The Rust side reports two ways of blocking: in_place (block_in_place, which tells the runtime)
// and plain (std::thread::sleep in a poll, which does not). Go has only the first: every blocking
// system call made through the syscall package tells the runtime (entersyscall), and sysmon hands
// the P to another thread once the call has lasted 20 µs or more. So Go runs once, blocking in
// syscall.Nanosleep, and reports that run under both names. (syscall.RawSyscall would skip
// entersyscall, like Rust's plain sleep, but no ordinary Go code blocks that way.)
func tickerBlock200() []metric {
	runtime.GOMAXPROCS(1)
	lateness := tickerAroundBlock()
	p99 := micros(percentile(lateness, 99))
	max := micros(percentile(lateness, 100))
	return []metric{
		{"in_place.p99", p99, "µs"},
		{"in_place.max", max, "µs"},
		{"plain.p99", p99, "µs"},
		{"plain.max", max, "µs"},
	}
}

// tickRecord is one ticker_block200 tick: when its sleep ended and how long it actually took.
type tickRecord struct {
	end    time.Time
	actual time.Duration
}

// tickerAroundBlock is one ticker_block200 run, as ticker_around_block in Rust; it returns the
// lateness (actual length minus tick) of every tick that ended after the block started, sorted.
// The driver starts the ticker goroutine, which time.Sleeps tick in a loop, timing each sleep;
// after ticksBeforeBlock it starts the blocking goroutine, which notes the time and blocks in
// blockingSleep(tickerBlock); once that is done, the driver sleeps ticksAfterBlock more and stops
// the ticker.
func tickerAroundBlock() []time.Duration {
	var stop atomic.Bool
	ticksDone := make(chan []tickRecord, 1)
	go func() {
		var ticks []tickRecord
		for !stop.Load() {
			start := time.Now()
			time.Sleep(tick)
			end := time.Now()
			ticks = append(ticks, tickRecord{end, end.Sub(start)})
		}
		ticksDone <- ticks
	}()
	time.Sleep(ticksBeforeBlock)
	blockDone := make(chan time.Time, 1)
	go func() {
		started := time.Now()
		blockingSleep(tickerBlock)
		blockDone <- started
	}()
	blockStarted := <-blockDone
	time.Sleep(ticksAfterBlock)
	stop.Store(true)
	var lateness []time.Duration
	for _, t := range <-ticksDone {
		if t.end.After(blockStarted) {
			late := t.actual - tick
			if late < 0 {
				late = 0
			}
			lateness = append(lateness, late)
		}
	}
	sort.Slice(lateness, func(i, j int) bool { return lateness[i] < lateness[j] })
	return lateness
}

// blockInPlaceFast is Go's counterpart of block_in_place_fast: what telling the runtime about a
// blocking call costs when the call does not block. Go's counterpart of entering and leaving
// block_in_place is entersyscall and exitsyscall, which only a system call can reach, so the
// driver makes inPlaceCalls getpid system calls with syscall.RawSyscall (which skips them) and as
// many with syscall.Syscall (entersyscall, RawSyscall6, exitsyscall), in alternating batches of
// inPlaceBatch each, each batch timed, with a runtime.Gosched after every pair of batches. The
// result is the difference of the two totals per call: the system call itself (a few hundred ns)
// and the clock reads cancel out, leaving entersyscall and exitsyscall. Alternating keeps drift
// on the machine from landing on one side only; the figure still carries the noise of both
// sides, a few ns. (syscall.Getpid would not do: it is a raw call already.)
//
// The Rust side reports per_poll (each call the first of its poll) and in_loop (a million calls
// in one poll), because tokio's cost differs between the two. Go's entersyscall and exitsyscall
// cost the same wherever the call is, so Go reports its one figure under both names.
func blockInPlaceFast() []metric {
	var raw, full time.Duration
	for i := 0; i < inPlaceCalls/inPlaceBatch; i++ {
		start := time.Now()
		for j := 0; j < inPlaceBatch; j++ {
			syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
		}
		middle := time.Now()
		for j := 0; j < inPlaceBatch; j++ {
			syscall.Syscall(syscall.SYS_GETPID, 0, 0, 0)
		}
		end := time.Now()
		raw += middle.Sub(start)
		full += end.Sub(middle)
		runtime.Gosched()
	}
	perCall := float64((full - raw).Nanoseconds()) / inPlaceCalls
	return []metric{{"per_poll", perCall, "ns/call"}, {"in_loop", perCall, "ns/call"}}
}

// gcRings are the rings gcPause builds, one after the other: the live objects in each and the
// prefix of its metrics, as GC_RINGS in Rust.
var gcRings = []struct {
	nodes int
	label string
}{
	{10_000, "10k"},
	{100_000, "100k"},
	{1_000_000, "1m"},
}

// ringNode is one object of a gc_pause ring, as RingNode in Rust: a pointer to the next node
// and a payload (the node's index, which the walk after the collections checks).
type ringNode struct {
	next    *ringNode
	payload uint64
}

// gcPause is gc_pause in Go: how long a collection stops the world, and how long a runtime.GC()
// call takes, with N live heap objects, for N = 10k, 100k and 1M (gcRings). For each N, untimed,
// gcRing builds N ringNodes linked into one ring, held by one local of the driver; then the
// driver calls runtime.GC() gcCollections times in a row, timing each call and reading, from
// runtime.ReadMemStats before and after it, the stop-the-world pause of every cycle that
// completed during the call (PauseNs of each cycle between NumGC before and after, summed:
// usually one cycle, two when the call first had to finish a cycle the pacer had started). Go
// records one PauseNs entry per cycle, already the sum of the cycle's two stop-the-world phases
// (sweep termination and mark termination). Reports, in µs, the p50, p99 (nearest rank: of 21
// samples, the max) and max of the pauses as <N>.p50, <N>.p99, <N>.max, and of the wall times
// as <N>.wall_p50, <N>.wall_p99, <N>.wall_max, as the Rust side.
//
// After the collections the driver walks the ring (N steps, each payload its index, back to the
// head), as the Rust side does; then the ring goes out of scope and one more runtime.GC(),
// untimed, frees it, so that the next size starts from the same heap as the first.
//
// Go marks concurrently, with the world running: its pause is only the two stop-the-world
// phases at either end of the cycle, which do not walk the heap, while the wall time of
// runtime.GC() holds the whole cycle (marking the N objects on GOMAXPROCS=2 and the sweep,
// which runtime.GC() waits for). gort's collection stops the world for all of its work, so its
// pause compares with Go's wall time more than with Go's pause.
func gcPause() []metric {
	var metrics []metric
	for _, ring := range gcRings {
		pauses, walls := collectAroundRing(ring.nodes)
		runtime.GC() // frees the ring, untimed
		sortDurations(pauses)
		sortDurations(walls)
		metrics = append(metrics,
			metric{ring.label + ".p50", micros(percentile(pauses, 50)), "µs"},
			metric{ring.label + ".p99", micros(percentile(pauses, 99)), "µs"},
			metric{ring.label + ".max", micros(percentile(pauses, 100)), "µs"},
			metric{ring.label + ".wall_p50", micros(percentile(walls, 50)), "µs"},
			metric{ring.label + ".wall_p99", micros(percentile(walls, 99)), "µs"},
			metric{ring.label + ".wall_max", micros(percentile(walls, 100)), "µs"},
		)
	}
	return metrics
}

// gcRing builds a ring of nodes ringNodes and returns the node of payload 0; each node's next is
// the node of the next payload, and the last one's is the first.
func gcRing(nodes int) *ringNode {
	head := &ringNode{}
	last := head
	for payload := uint64(1); payload < uint64(nodes); payload++ {
		node := &ringNode{payload: payload}
		last.next = node
		last = node
	}
	last.next = head
	return head
}

// collectAroundRing is one gcPause size: it builds a ring of nodes (gcRing), calls runtime.GC()
// gcCollections times and checks the ring; it returns each call's stop-the-world pause and wall
// time, unsorted. The ring is garbage once it returns.
func collectAroundRing(nodes int) (pauses, walls []time.Duration) {
	head := gcRing(nodes)
	var stats runtime.MemStats
	for i := 0; i < gcCollections; i++ {
		runtime.ReadMemStats(&stats)
		before := stats.NumGC
		start := time.Now()
		runtime.GC()
		walls = append(walls, time.Since(start))
		runtime.ReadMemStats(&stats)
		var pause time.Duration
		for n := before; n < stats.NumGC; n++ {
			pause += time.Duration(stats.PauseNs[n%uint32(len(stats.PauseNs))])
		}
		pauses = append(pauses, pause)
	}
	at := head
	for payload := uint64(0); payload < uint64(nodes); payload++ {
		if at.payload != payload {
			panic("the ring is out of order")
		}
		at = at.next
	}
	if at != head {
		panic("the ring does not close")
	}
	return pauses, walls
}

// sortDurations sorts d in place, ascending.
func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

// loop is cycles100k's message, as GortLoop and TokioLoop in Rust: it holds the channel it is
// sent on (a Go channel is both ends at once).
type loop struct {
	rx chan loop
}

// cycles100k is cycles100k in Go (the Rust doc has the design): selfCycles times, the driver
// makes a channel with a buffer of 1, sends into it (with select and default, as try_send: it
// must not block) a loop holding the channel itself, and lets it go. Before the first channel
// and after the last, it runs runtime.GC() and debug.FreeOSMemory() (which returns free pages to
// the OS) and then reads the resident set (rssBytes, as parked200k) and MemStats.HeapObjects.
// Reports the resident set's growth per cycle in bytes as bytes, and the growth of HeapObjects
// (exact after runtime.GC(), which finishes its sweep) as objects. Go's tracing GC frees a
// cycle like any other garbage, and its pacer runs while the loop allocates.
func cycles100k() []metric {
	var stats runtime.MemStats
	runtime.GC()
	debug.FreeOSMemory()
	rssBefore := rssBytes()
	runtime.ReadMemStats(&stats)
	objectsBefore := stats.HeapObjects
	for i := 0; i < selfCycles; i++ {
		ch := make(chan loop, 1)
		select {
		case ch <- loop{ch}:
		default:
			panic("a fresh channel with a buffer of 1 was full")
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	rssAfter := rssBytes()
	runtime.ReadMemStats(&stats)
	objectsAfter := stats.HeapObjects
	return []metric{
		{"bytes", (float64(rssAfter) - float64(rssBefore)) / selfCycles, "B/cycle"},
		{"objects", float64(objectsAfter) - float64(objectsBefore), "objects"},
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
