// Command peer is a HashiCorp memberlist agent (Debian's memberlist 0.2.2, unmodified) with the
// same command line and JSON-lines contract as our `plumtree agent`, so the interop tests and
// bench:swim can drive Go nodes and ours through one harness.
//
//	peer --name N --bind HOST:PORT [--join HOST:PORT,...] [--key BASE64]...
//	     [--profile lan|wan|local] [--http HOST:PORT] [--json] [timer overrides]
//
// stdout (with --json), one object per line:
//
//	{"event":"ready","node":N,"addr":"host:port","http":..}  once bound (after our own join)
//	{"event":"join"|"leave"|"fail"|"update","node":..,"addr":..}
//	{"event":"user","from":"","data":"<utf8>"}              memberlist does not tell the sender
//	{"event":"state","join":bool,"data":"<utf8>"}           remote user state merged by push-pull
//	{"event":"joined","contacted":n} / {"event":"join-error","error":..}
//
// stdin lines: `broadcast TEXT` queues a piggybacked user broadcast; `user NODE TEXT` sends a
// direct user message over a stream (SendReliable); `user-udp NODE TEXT` over a packet
// (SendBestEffort). SIGTERM/SIGINT: Leave, Shutdown, exit 0.
//
// HTTP: GET /members (every node this process has seen, with memberlist's view of its state),
// GET /health, GET /wire (counts of packets by outer framing, per remote address, both ways: it is
// how the tests see that compression and CRC really crossed the wire).
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/hashicorp/memberlist"
)

// Message type bytes of memberlist's packet framing (net.go, messageType iota order).
const (
	compressMsg = 9
	hasCrcMsg   = 12
)

// keyList collects repeated --key flags.
type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, ",") }
func (k *keyList) Set(v string) error { *k = append(*k, v); return nil }

// out serialises JSON lines on stdout.
type out struct {
	mu   sync.Mutex
	json bool
}

func (o *out) emit(v map[string]interface{}) {
	if !o.json {
		return
	}
	b, _ := json.Marshal(v)
	o.mu.Lock()
	defer o.mu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

// nodeStateMirror has the layout of memberlist 0.2.2's unexported nodeState, whose first field is
// the embedded Node. The *Node handed to EventDelegate and returned by Members() points at that
// embedded field, so it also points at the nodeState. 0.2.2 never sets Node.State (the nodeState
// field of the same name shadows it), and NotifyLeave is the same call for dead and left, so this
// is the only way to tell "fail" from "leave" without patching memberlist.
type nodeStateMirror struct {
	memberlist.Node
	Incarnation uint32
	State       memberlist.NodeStateType
	StateChange time.Time
}

func mirror(n *memberlist.Node) *nodeStateMirror {
	return (*nodeStateMirror)(unsafe.Pointer(n))
}

func stateName(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return "alive"
	case memberlist.StateSuspect:
		return "suspect"
	case memberlist.StateDead:
		return "dead"
	case memberlist.StateLeft:
		return "left"
	}
	return "unknown"
}

// registry remembers every node memberlist told us about. The pointers stay valid: memberlist
// updates a nodeState in place and only drops it from its own map after GossipToTheDeadTime.
type registry struct {
	mu    sync.Mutex
	nodes map[string]*memberlist.Node
}

func (r *registry) put(n *memberlist.Node) {
	r.mu.Lock()
	r.nodes[n.Name] = n
	r.mu.Unlock()
}

// agent implements memberlist.Delegate and memberlist.EventDelegate.
type agent struct {
	out    *out
	reg    *registry
	queue  *memberlist.TransmitLimitedQueue
	meta   []byte
	name   string
	mu     sync.Mutex
	states []string // remote user states merged by push-pull, newest last
}

// broadcast is one queued user broadcast; each is unique, so none invalidates another.
type broadcast struct{ msg []byte }

func (b *broadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b *broadcast) Message() []byte                       { return b.msg }
func (b *broadcast) Finished()                             {}

func (a *agent) NodeMeta(limit int) []byte {
	if len(a.meta) > limit {
		return a.meta[:limit]
	}
	return a.meta
}

func (a *agent) NotifyMsg(b []byte) {
	a.out.emit(map[string]interface{}{"event": "user", "from": "", "data": string(b)})
}

func (a *agent) GetBroadcasts(overhead, limit int) [][]byte {
	return a.queue.GetBroadcasts(overhead, limit)
}

// LocalState is a small user state so that push-pull carries user bytes both ways.
func (a *agent) LocalState(join bool) []byte {
	return []byte("go-peer-state:" + a.name)
}

func (a *agent) MergeRemoteState(buf []byte, join bool) {
	a.mu.Lock()
	a.states = append(a.states, string(buf))
	if len(a.states) > 64 {
		a.states = a.states[1:]
	}
	a.mu.Unlock()
	a.out.emit(map[string]interface{}{"event": "state", "join": join, "data": string(buf)})
}

func (a *agent) event(kind string, n *memberlist.Node) {
	a.out.emit(map[string]interface{}{"event": kind, "node": n.Name, "addr": n.Address()})
}

func (a *agent) NotifyJoin(n *memberlist.Node) {
	a.reg.put(n)
	a.event("join", n)
}

// NotifyLeave runs with memberlist's node lock held, right after deadNode set the state, so the
// mirror read is consistent.
func (a *agent) NotifyLeave(n *memberlist.Node) {
	a.reg.put(n)
	if mirror(n).State == memberlist.StateLeft {
		a.event("leave", n)
	} else {
		a.event("fail", n)
	}
}

func (a *agent) NotifyUpdate(n *memberlist.Node) {
	a.reg.put(n)
	a.event("update", n)
}

// wireTap wraps the UDP/TCP transport and counts packets by outer framing, per remote address.
type wireTap struct {
	*memberlist.NetTransport
	packets   chan *memberlist.Packet
	encrypted bool
	mu        sync.Mutex
	in        map[string]map[string]int
	out       map[string]map[string]int
}

func framing(b []byte, encrypted bool) []string {
	if len(b) == 0 {
		return []string{"empty"}
	}
	kinds := []string{}
	switch {
	case encrypted:
		// With a keyring every packet is sealed (GossipVerifyIncoming/Outgoing are on): the
		// first byte is the encryption version and the framing inside is not visible here.
		kinds = append(kinds, "encrypted")
	case b[0] == hasCrcMsg:
		kinds = append(kinds, "crc")
		if len(b) > 5 && b[5] == compressMsg {
			kinds = append(kinds, "compressed")
		}
	case b[0] == compressMsg:
		kinds = append(kinds, "compressed")
	}
	kinds = append(kinds, "type"+strconv.Itoa(int(b[0])))
	return append(kinds, "total")
}

func (w *wireTap) count(table map[string]map[string]int, addr string, b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	row := table[addr]
	if row == nil {
		row = map[string]int{}
		table[addr] = row
	}
	for _, k := range framing(b, w.encrypted) {
		row[k]++
	}
}

func (w *wireTap) pump() {
	for p := range w.NetTransport.PacketCh() {
		w.count(w.in, p.From.String(), p.Buf)
		w.packets <- p
	}
}

func (w *wireTap) PacketCh() <-chan *memberlist.Packet { return w.packets }

func (w *wireTap) WriteTo(b []byte, addr string) (time.Time, error) {
	w.count(w.out, addr, b)
	return w.NetTransport.WriteTo(b, addr)
}

func (w *wireTap) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	w.count(w.out, a.Addr, b)
	return w.NetTransport.WriteToAddress(b, a)
}

func (w *wireTap) snapshot() map[string]interface{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, _ := json.Marshal(map[string]interface{}{"in": w.in, "out": w.out})
	var v map[string]interface{}
	_ = json.Unmarshal(b, &v)
	return v
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "peer: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	var (
		name       = flag.String("name", "", "node name (required)")
		bind       = flag.String("bind", "", "HOST:PORT for UDP and TCP (required)")
		join       = flag.String("join", "", "comma-separated HOST:PORT seeds")
		label      = flag.String("label", "", "not supported by memberlist 0.2.2")
		profile    = flag.String("profile", "lan", "lan|wan|local: memberlist DefaultLANConfig/WANConfig/LocalConfig")
		httpAddr   = flag.String("http", "", "HOST:PORT for GET /members, /health, /wire")
		jsonOut    = flag.Bool("json", false, "print one JSON object per line per event")
		meta       = flag.String("meta", "go", "node meta (utf8)")
		probeIv    = flag.Int("probe-interval-ms", 0, "override ProbeInterval")
		probeTo    = flag.Int("probe-timeout-ms", 0, "override ProbeTimeout")
		gossipIv   = flag.Int("gossip-interval-ms", 0, "override GossipInterval")
		pushPullIv = flag.Int("push-pull-interval-ms", 0, "override PushPullInterval")
		deadTime   = flag.Int("gossip-to-the-dead-ms", 0, "override GossipToTheDeadTime")
		suspMult   = flag.Int("suspicion-mult", 0, "override SuspicionMult")
		suspMax    = flag.Int("suspicion-max-timeout-mult", 0, "override SuspicionMaxTimeoutMult")
		retransmit = flag.Int("retransmit-mult", 0, "override RetransmitMult")
		indirect   = flag.Int("indirect-checks", 0, "override IndirectChecks")
		gossipN    = flag.Int("gossip-nodes", 0, "override GossipNodes")
		noCompress = flag.Bool("no-compression", false, "disable compression (Go's default is on)")
		verbose    = flag.Bool("verbose", false, "memberlist's own log on stderr")
	)
	var keys keyList
	flag.Var(&keys, "key", "base64 AES key (16, 24 or 32 bytes); repeatable, the first is the primary")
	flag.Parse()

	var problems []string
	if *name == "" {
		problems = append(problems, "--name is required")
	}
	host, portStr, err := net.SplitHostPort(*bind)
	port, perr := strconv.Atoi(portStr)
	if *bind == "" || err != nil || perr != nil || port <= 0 || port > 65535 {
		problems = append(problems, fmt.Sprintf("--bind HOST:PORT is required (got %q)", *bind))
	}
	if *label != "" {
		problems = append(problems, "--label is not supported: memberlist 0.2.2 has no label support")
	}
	var conf *memberlist.Config
	switch *profile {
	case "lan":
		conf = memberlist.DefaultLANConfig()
	case "wan":
		conf = memberlist.DefaultWANConfig()
	case "local":
		conf = memberlist.DefaultLocalConfig()
	default:
		problems = append(problems, fmt.Sprintf("--profile must be lan, wan or local (got %q)", *profile))
	}
	var keyring *memberlist.Keyring
	var decoded [][]byte
	for _, text := range keys {
		k, err := base64.StdEncoding.DecodeString(text)
		if err != nil || (len(k) != 16 && len(k) != 24 && len(k) != 32) {
			problems = append(problems, fmt.Sprintf("--key %q: must be base64 of 16, 24 or 32 bytes", text))
			continue
		}
		decoded = append(decoded, k)
	}
	if len(decoded) > 0 && len(problems) == 0 {
		var err error
		if keyring, err = memberlist.NewKeyring(decoded, decoded[0]); err != nil {
			problems = append(problems, "--key: "+err.Error())
		}
	}
	if len(problems) > 0 {
		fail("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}

	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	if *probeIv > 0 {
		conf.ProbeInterval = ms(*probeIv)
	}
	if *probeTo > 0 {
		conf.ProbeTimeout = ms(*probeTo)
	}
	if *gossipIv > 0 {
		conf.GossipInterval = ms(*gossipIv)
	}
	if *pushPullIv > 0 {
		conf.PushPullInterval = ms(*pushPullIv)
	}
	if *deadTime > 0 {
		conf.GossipToTheDeadTime = ms(*deadTime)
	}
	if *suspMult > 0 {
		conf.SuspicionMult = *suspMult
	}
	if *suspMax > 0 {
		conf.SuspicionMaxTimeoutMult = *suspMax
	}
	if *retransmit > 0 {
		conf.RetransmitMult = *retransmit
	}
	if *indirect > 0 {
		conf.IndirectChecks = *indirect
	}
	if *gossipN > 0 {
		conf.GossipNodes = *gossipN
	}
	if *noCompress {
		conf.EnableCompression = false
	}

	logger := log.New(io.Discard, "", log.LstdFlags)
	if *verbose {
		logger = log.New(os.Stderr, "["+*name+"] ", log.LstdFlags|log.Lmicroseconds)
	}
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{host},
		BindPort:  port,
		Logger:    logger,
	})
	if err != nil {
		fail("bind %s: %v", *bind, err)
	}
	tap := &wireTap{
		NetTransport: nt,
		packets:      make(chan *memberlist.Packet, 1024),
		encrypted:    keyring != nil,
		in:           map[string]map[string]int{},
		out:          map[string]map[string]int{},
	}
	go tap.pump()

	o := &out{json: *jsonOut}
	reg := &registry{nodes: map[string]*memberlist.Node{}}
	var m *memberlist.Memberlist
	numNodes := func() int {
		if m == nil {
			return 1
		}
		return m.NumMembers()
	}
	a := &agent{
		out: o, reg: reg, meta: []byte(*meta), name: *name,
		queue: &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: conf.RetransmitMult},
	}
	conf.Name = *name
	conf.BindAddr = host
	conf.BindPort = port
	conf.AdvertiseAddr = host
	conf.AdvertisePort = port
	conf.Transport = tap
	conf.Logger = logger
	conf.Keyring = keyring
	conf.Delegate = a
	conf.Events = a

	m, err = memberlist.Create(conf)
	if err != nil {
		fail("create: %v", err)
	}
	self := m.LocalNode()
	ready := map[string]interface{}{"event": "ready", "node": self.Name, "addr": self.Address()}
	if *httpAddr != "" {
		ready["http"] = *httpAddr
	}
	o.emit(ready)

	if *httpAddr != "" {
		serveHTTP(*httpAddr, m, reg, tap)
	}
	if *join != "" {
		go func() {
			n, err := m.Join(strings.Split(*join, ","))
			if err != nil {
				fmt.Fprintf(os.Stderr, "peer %s: join %s: %v\n", *name, *join, err)
				o.emit(map[string]interface{}{"event": "join-error", "error": err.Error()})
				return
			}
			o.emit(map[string]interface{}{"event": "joined", "contacted": n})
		}()
	}
	go readCommands(m, a)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	if err := m.Leave(5 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "peer %s: leave: %v\n", *name, err)
	}
	_ = m.Shutdown()
	os.Exit(0)
}

func readCommands(m *memberlist.Memberlist, a *agent) {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		cmd, rest, _ := strings.Cut(line, " ")
		switch cmd {
		case "":
		case "broadcast":
			a.queue.QueueBroadcast(&broadcast{msg: []byte(rest)})
		case "user", "user-udp":
			target, text, _ := strings.Cut(rest, " ")
			var node *memberlist.Node
			for _, n := range m.Members() {
				if n.Name == target {
					node = n
				}
			}
			if node == nil {
				fmt.Fprintf(os.Stderr, "peer: user: no alive member %q\n", target)
				continue
			}
			var err error
			if cmd == "user" {
				err = m.SendReliable(node, []byte(text))
			} else {
				err = m.SendBestEffort(node, []byte(text))
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "peer: %s %s: %v\n", cmd, target, err)
			}
		default:
			fmt.Fprintf(os.Stderr, "peer: unknown command %q\n", cmd)
		}
	}
}

// memberJSON is one row of GET /members, the same shape as our agent's.
type memberJSON struct {
	Name        string `json:"name"`
	Addr        string `json:"addr"`
	State       string `json:"state"`
	Incarnation uint32 `json:"incarnation"`
	Meta        string `json:"meta"`
}

func serveHTTP(addr string, m *memberlist.Memberlist, reg *registry, tap *wireTap) {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v interface{}) {
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/members", func(w http.ResponseWriter, r *http.Request) {
		// Members() takes memberlist's lock, so it also makes the alive set current; the
		// registry adds the dead and left nodes memberlist still remembers.
		for _, n := range m.Members() {
			reg.put(n)
		}
		reg.mu.Lock()
		rows := make([]memberJSON, 0, len(reg.nodes))
		for _, n := range reg.nodes {
			s := mirror(n)
			rows = append(rows, memberJSON{
				Name:        n.Name,
				Addr:        n.Address(),
				State:       stateName(s.State),
				Incarnation: s.Incarnation,
				Meta:        base64.StdEncoding.EncodeToString(n.Meta),
			})
		}
		reg.mu.Unlock()
		sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
		writeJSON(w, rows)
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]interface{}{
			"status":  "ok",
			"members": m.NumMembers(),
			"health":  m.GetHealthScore(),
		})
	})
	mux.HandleFunc("/wire", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, tap.snapshot())
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail("http %s: %v", addr, err)
	}
	go func() { _ = http.Serve(ln, mux) }()
}
