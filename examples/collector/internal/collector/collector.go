package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/redact"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/receiver"
)

// Collector receives, redacts, stores and correlates telemetry, and serves the query API. It
// must be created with [New]; its methods are safe for concurrent use.
type Collector struct {
	cfg    Config
	store  *store
	engine *redact.Engine
	asm    *correlate.Assembler
	recv   *receiver.Receiver
	authn  *authn
	fwd    *forwarder
	ready  atomic.Bool
	closed atomic.Bool

	runCtx    context.Context
	runCancel context.CancelFunc
	wg        sync.WaitGroup

	retainMu sync.Mutex // serialises retention runs

	mu      sync.Mutex
	httpSrv *http.Server
	grpcSrv *grpc.Server

	ackCount, ackNanos, redactions atomic.Int64
	// rowBytes is the bytes per event of the last request's rows (see newEventRows).
	rowBytes atomic.Int64
	// OTLP requests refused by the collector's token check, before the receiver sees them.
	otlpUnauthorized, otlpForbidden atomic.Int64
	lat                             latency
}

var _ receiver.Consumer = (*Collector)(nil)

// New opens (or creates) the store in cfg.DataDir, builds the pipeline and rebuilds the chains
// that were open when the collector last stopped. Call [Collector.Serve] to start serving and
// [Collector.Shutdown] to stop.
func New(ctx context.Context, cfg Config) (*Collector, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("collector: data directory: %w", err)
	}
	policy, err := loadPolicy(cfg.Redact)
	if err != nil {
		return nil, err
	}
	keyID, key, err := loadKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	engine, err := redact.New(policy, redact.WithKey(keyID, key), redact.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("collector: redaction policy: %w", err)
	}
	st, err := openStore(cfg.DataDir, storeOptions{queue: cfg.WriteQueue, fullSync: cfg.FullSync, rawPayloads: cfg.RawPayloads}, cfg.Logger)
	if err != nil {
		return nil, err
	}
	toks := slices.Clone(cfg.Tokens)
	if cfg.Token != "" {
		toks = append(toks, Token{Role: RoleAdmin, Value: cfg.Token})
	}
	for _, t := range toks {
		if t.Role == RoleUnknown || t.Value == "" {
			st.Close()
			return nil, fmt.Errorf("%w: a token without role or value", ErrTokens)
		}
		cfg.Logger.Info("collector: token", "role", t.Role.String(), "fingerprint", t.Fingerprint())
	}
	c := &Collector{cfg: cfg, store: st, engine: engine, authn: newAuthn(toks)}
	c.runCtx, c.runCancel = context.WithCancel(context.Background())
	// cfg.Hold bounds the events held; past it the oldest open chain is emitted early and
	// amended by its later events.
	// storeChain encodes each chain and copies its columns out before it returns, so the
	// assembler may build the next chains in the same memory.
	opts := []correlate.Option{correlate.WithLogger(cfg.Logger), correlate.WithMaxBytes(cfg.Hold), correlate.WithChainReuse()}
	if cfg.QuietPeriod > 0 {
		opts = append(opts, correlate.WithQuietPeriod(cfg.QuietPeriod))
	}
	if cfg.IdleTimeout > 0 {
		opts = append(opts, correlate.WithIdleTimeout(cfg.IdleTimeout))
	}
	if c.asm, err = correlate.New(correlate.ConsumerFunc(c.storeChain), opts...); err != nil {
		st.Close()
		return nil, err
	}
	ro := cfg.Receiver
	// The collector authenticates OTLP requests itself (several tokens, roles), so the
	// receiver is given none.
	ro.Token, ro.Logger = "", cfg.Logger
	// Room for the redaction audit's attributes: copying every event's list to add them was
	// 1.9 % of the collector's CPU.
	ro.Decode.SpareAttrs = max(ro.Decode.SpareAttrs, redact.AuditAttrs)
	if c.recv, err = receiver.New(c, ro); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Forward != "" {
		if c.fwd, err = newForwarder(cfg, st); err != nil {
			st.Close()
			return nil, err
		}
	}
	// Resume: the chains still open at the last stop are rebuilt from their stored events.
	evs, err := st.loadEvents(ctx, nil)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("collector: resume open chains: %w", err)
	}
	if err := c.asm.Add(ctx, evs...); err != nil {
		cfg.Logger.Warn("collector: resuming chains", "err_type", fmt.Sprintf("%T", err))
	}
	cfg.Logger.Info("collector: store open", "data_dir", cfg.DataDir, "redact", policy.Name, "resumed_events", len(evs),
		"forward", cfg.Forward != "", "auth", len(toks) > 0,
		"retain_events", cfg.Retention.Events.String(), "retain_chains", cfg.Retention.Chains.String(), "retain_metrics", cfg.Retention.Metrics.String())
	c.ready.Store(true)
	return c, nil
}

func loadPolicy(spec string) (redact.Policy, error) {
	if p, ok := redact.Preset(spec); ok {
		return p, nil
	}
	f, err := os.Open(spec)
	if err != nil {
		return redact.Policy{}, fmt.Errorf("collector: -redact %q is neither strict, balanced, none nor a readable policy file: %w", spec, err)
	}
	defer f.Close()
	p, err := redact.LoadPolicy(f)
	if err != nil {
		return redact.Policy{}, fmt.Errorf("collector: policy file %s: %w", spec, err)
	}
	return p, nil
}

// Receiver returns the OTLP receiver, for embedding in another server.
func (c *Collector) Receiver() *receiver.Receiver { return c.recv }

// Handler returns the HTTP handler of the -http listener: OTLP/HTTP on /v1/logs and
// /v1/metrics, the query API under /api/, and /metrics.
func (c *Collector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", c.guard("otlp", c.recv, RoleIngest))
	c.routes(mux)
	return mux
}

// Serve serves the -http listener (required) and the -grpc listener (nil to disable) until
// Shutdown, and runs the chain sweeper and the forwarder. It returns nil after Shutdown.
func (c *Collector) Serve(httpLn, grpcLn net.Listener) error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return ErrClosed
	}
	c.httpSrv = &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if grpcLn != nil {
		c.grpcSrv = grpc.NewServer(append(c.recv.GRPCServerOptions(), grpc.UnaryInterceptor(c.grpcAuth))...)
		c.recv.RegisterGRPC(c.grpcSrv)
	}
	c.wg.Add(1)
	go func() { defer c.wg.Done(); _ = c.asm.Run(c.runCtx) }()
	if c.fwd != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.fwd.run(c.runCtx) }()
	}
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.retainLoop(c.runCtx) }()
	srv, gsrv := c.httpSrv, c.grpcSrv
	c.mu.Unlock()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(httpLn) }()
	if gsrv != nil {
		go func() { errc <- gsrv.Serve(grpcLn) }()
	}
	c.cfg.Logger.Info("collector: serving", "http", httpLn.Addr().String(), "grpc", addrOf(grpcLn))
	err := <-errc
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) || c.closed.Load() {
		return nil
	}
	return err
}

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// Shutdown stops accepting requests, lets those in flight finish (each is acknowledged only
// once committed), commits every queued write and closes the store. Chains still open stay
// recorded as open and are rebuilt by the next New. If ctx ends first, remaining requests are
// cut off (unacknowledged, so their clients retry).
func (c *Collector) Shutdown(ctx context.Context) error {
	if c.closed.Swap(true) {
		return nil
	}
	c.ready.Store(false)
	c.mu.Lock()
	srv, gsrv := c.httpSrv, c.grpcSrv
	c.mu.Unlock()
	var errs []error
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = srv.Close()
		}
	}
	if gsrv != nil {
		done := make(chan struct{})
		go func() { gsrv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			gsrv.Stop()
		}
	}
	c.runCancel()
	c.wg.Wait()
	errs = append(errs, c.store.Close())
	c.cfg.Logger.Info("collector: stopped", "events_stored", c.store.eventsStored.Load(), "chains_stored", c.store.chainsStored.Load())
	return errors.Join(errs...)
}

// ConsumeLogs redacts a batch, commits it, and then hands its new events to the assembler. It
// returns nil only after the commit; see [receiver.Consumer].
func (c *Collector) ConsumeLogs(ctx context.Context, l *telemetry.Logs) error {
	start := time.Now()
	notes := taskNotifications(l)
	rep := c.engine.Logs(l)
	keepNotifications(notes)
	c.redactions.Add(int64(rep.Changed + rep.Removed + rep.Failed))
	payload, err := encodePayload(l, c.store.payloads)
	if err != nil {
		return fmt.Errorf("%w: encode: %w", receiver.ErrInvalid, err)
	}
	evs := l.Events()
	// The room for the rows' JSON: what the last request's took per event, and an eighth.
	rows, per := newEventRows(evs, int(c.rowBytes.Load()*9/8))
	if len(evs) > 0 {
		c.rowBytes.Store(int64(per))
	}
	w := &logsWrite{payload: payload, rows: rows, done: make(chan logsResult, 1)}
	if err := c.enqueue(ctx, w); err != nil {
		return err
	}
	var res logsResult
	select {
	case res = <-w.done:
	case <-ctx.Done():
		return ctx.Err() // the commit may still happen; the client's retry is de-duplicated
	}
	if res.err != nil {
		return fmt.Errorf("%w: %w", receiver.ErrUnavailable, res.err)
	}
	c.ackCount.Add(1)
	c.lat.observe(time.Since(start))
	// Committed: correlation can only be redone from here, never lose data.
	var reopened map[chainKey]bool // usually none
	for _, k := range res.reopen {
		if reopened == nil {
			reopened = map[chainKey]bool{}
		}
		reopened[k] = true
	}
	fresh := evs[:0:0]
	for i, ev := range evs {
		if res.fresh[i] && !reopened[chainKey{rows[i].session, rows[i].prompt}] {
			fresh = append(fresh, ev)
		}
	}
	if err := c.asm.Add(ctx, detachPreamble(fresh)...); err != nil && !errors.Is(err, correlate.ErrClosed) {
		c.cfg.Logger.Warn("collector: correlating", "err_type", fmt.Sprintf("%T", err))
	}
	if len(res.reopen) > 0 {
		c.refold(ctx, res.reopen)
	}
	return nil
}

// refold rebuilds chains that late events reopened after they were stored, from all their
// stored events, and stores the new version.
func (c *Collector) refold(ctx context.Context, keys []chainKey) {
	evs, err := c.store.loadEvents(ctx, keys)
	if err != nil {
		c.cfg.Logger.Warn("collector: reloading reopened chains; they are rebuilt at the next start", "chains", len(keys))
		return
	}
	for _, ch := range correlate.Fold(evs) {
		if err := c.storeChain(ctx, ch); err != nil {
			return
		}
	}
}

func (c *Collector) enqueue(ctx context.Context, item any) error {
	ok, err := c.store.send(ctx, item, c.cfg.SaturationWait)
	switch {
	case errors.Is(err, ErrClosed):
		return receiver.ErrUnavailable
	case err != nil:
		return err
	case !ok:
		return receiver.ErrSaturated
	}
	return nil
}

// storeChain queues an emitted chain for the store. The chain's events are already stored and
// its key is in open_chains until this write commits, so a chain lost here (shutdown, crash)
// is rebuilt at the next start. The write holds the JSON (json.Marshal's bytes, by the chain's
// own encoder, in a fresh slice) and copies of the columns, nothing of ch, which the assembler
// reuses once this returns (correlate.WithChainReuse).
func (c *Collector) storeChain(ctx context.Context, ch *correlate.Chain) error {
	if slices.Contains(ch.Reasons, correlate.ReasonPartial) {
		// A late event came after the assembler had let the chain's earlier events go (its
		// memory bound, or more closed chains than it keeps): this version holds only the
		// events since, and would leave the stored chain without them. All of them are
		// stored: fold them all (before this returns, while ch and its key are still valid).
		c.refold(ctx, []chainKey{{ch.SessionID, ch.PromptID}})
		return nil
	}
	js, err := ch.AppendJSON(nil)
	if err != nil {
		return err
	}
	_, err = c.store.send(ctx, newChainWrite(ch, js), 0)
	return err
}

// ConsumeMetrics redacts and stores metric data points.
func (c *Collector) ConsumeMetrics(ctx context.Context, m *telemetry.Metrics) error {
	var rows []pointRow
	var buf []byte
	seen := map[*telemetry.Resource]bool{}
	for i := range m.ResourceMetrics {
		rm := &m.ResourceMetrics[i]
		if rm.Resource != nil && !seen[rm.Resource] {
			seen[rm.Resource] = true
			c.engine.Resource(rm.Resource)
		}
		for j := range rm.ScopeMetrics {
			sm := &rm.ScopeMetrics[j]
			for k := range sm.Metrics {
				mt := &sm.Metrics[k]
				for p := range mt.Points {
					pt := &mt.Points[p]
					pt.Attrs = c.redactAttrs(pt.Attrs)
					buf = appendAttrsJSON(buf[:0], pt.Attrs)
					tun := int64(pt.TimeUnixNano)
					rows = append(rows, pointRow{name: mt.Name, time: fmtTime(time.Unix(0, tun)), tun: tun, value: pt.Value,
						session: pt.Get(telemetry.KeySessionID), account: pt.Get(telemetry.KeyAccountUUID), attributes: string(buf)})
				}
			}
		}
	}
	w := &metricsWrite{rows: rows, done: make(chan error, 1)}
	if err := c.enqueue(ctx, w); err != nil {
		return err
	}
	select {
	case err := <-w.done:
		if err != nil {
			return fmt.Errorf("%w: %w", receiver.ErrUnavailable, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// redactAttrs redacts metric point attributes with the record rules.
func (c *Collector) redactAttrs(a telemetry.Attributes) telemetry.Attributes {
	out := make(telemetry.Attributes, 0, len(a))
	for _, kv := range a {
		if v, ok := c.engine.Value(kv.Key, kv.Value); ok {
			out = append(out, telemetry.KeyValue{Key: kv.Key, Value: v})
		}
	}
	return out
}

// notification is a background subagent's completion notice found before redaction.
type notification struct {
	up      *telemetry.UserPrompt
	agentID string
}

// taskNotifications finds the task notifications of a batch before redaction. Their text is
// synthetic (written by the CLI, not the user) but policies such as strict reduce every prompt
// to its length, which would also erase what correlation needs to link the notification's
// chain to the chain that started the subagent.
func taskNotifications(l *telemetry.Logs) []notification {
	var out []notification
	for _, ev := range l.Events() {
		up, ok := ev.(*telemetry.UserPrompt)
		if !ok || !up.IsTaskNotification() {
			continue
		}
		text := up.Prompt
		if !strings.Contains(text, telemetry.TaskNotificationPrefix) {
			text = up.PromptText
		}
		out = append(out, notification{up: up, agentID: between(text, "<task-id>", "</task-id>")})
	}
	return out
}

// keepNotifications restores, after redaction, the structure of task notifications that
// redaction erased: the prompt becomes "<task-notification><task-id>ID</task-id>
// </task-notification>" (identifiers only, no text) and agent_id names the subagent.
func keepNotifications(notes []notification) {
	for _, n := range notes {
		if n.up.IsTaskNotification() {
			continue // the policy kept the text
		}
		id := n.agentID
		if !validID(id) {
			id = ""
		}
		telemetry.Set(n.up, telemetry.KeyPrompt, telemetry.String(telemetry.TaskNotificationPrefix+"<task-id>"+id+"</task-id></task-notification>"))
		if id != "" && !n.up.Attrs.Has(telemetry.KeyAgentID) {
			telemetry.Set(n.up, telemetry.KeyAgentID, telemetry.String(id))
		}
	}
}

func between(s, open, close string) string {
	i := strings.Index(s, open)
	if i < 0 {
		return ""
	}
	s = s[i+len(open):]
	j := strings.Index(s, close)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// validID accepts what agent ids look like (hex and a few separators), so that no free text
// can ride along.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// detachPreamble replaces, in evs, the events of sessions' preambles (those without a
// prompt.id) by copies that share no memory with their request (telemetry.DetachAll).
// A decoded event's strings and attributes are parts of its whole request, which it keeps
// alive; the assembler holds a preamble until the idle timeout (2 minutes by default) after its
// last event, so a session's first request, usually its largest, stayed in memory that long for
// a handful of its events: 110 KB a session under loadgen, the collector's heap growing by
// 100 MB a run. It returns evs.
func detachPreamble(evs []telemetry.Event) []telemetry.Event {
	var at []int
	var pre []telemetry.Event
	for i, ev := range evs {
		if ev.EventRecord().PromptID == "" {
			at = append(at, i)
			pre = append(pre, ev)
		}
	}
	if len(pre) == 0 {
		return evs
	}
	for i, c := range telemetry.DetachAll(pre) {
		evs[at[i]] = c
	}
	return evs
}
