package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/auth"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/routes"
)

// Body size limits.
const (
	// DefaultMaxBodyBytes bounds a POST /events body when Config leaves it 0.
	DefaultMaxBodyBytes = 256 << 10
	// tokenMaxBodyBytes bounds a POST /token body: an API key and a few
	// form fields never need more.
	tokenMaxBodyBytes = 8 << 10
)

// Config is what an API needs. Only Store is required.
type Config struct {
	// Store keeps the events. Required.
	Store event.Store
	// Auth issues tokens (POST /token) and verifies them. It may be nil
	// where something else verified the caller and put the principal in
	// the request context (the Lambda authorizer, through the API Gateway
	// adapter); then a request without a principal gets 401, and POST
	// /token answers 500 because the deployment is miswired.
	Auth *auth.Authenticator
	// Limiter slows down API key guessing on POST /token, keyed by client
	// address. Nil means no limit.
	Limiter auth.AttemptLimiter
	// TrustedProxies are the reverse proxies in front of the server whose
	// X-Forwarded-For may be believed when telling clients apart for the
	// limiter. Empty means none: the connection's address is the client.
	TrustedProxies []netip.Prefix
	// Logger receives the access log and errors. Nil discards them.
	Logger *slog.Logger
	// Now is the clock for event times and generated ids. Nil means time.Now.
	Now func() time.Time
	// IDs makes event and request ids. Nil means a fresh generator.
	IDs *event.IDs
	// Retention is how long events live. Zero means event.DefaultRetention.
	Retention time.Duration
	// MaxBodyBytes bounds a POST /events body. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Version is reported by GET /health.
	Version string
	// Subscriptions keeps the REST hook subscriptions of the
	// /subscriptions routes. Nil means Store, if it implements
	// event.SubscriptionStore (both stores do); with neither, those routes
	// answer 500 because the deployment is miswired.
	Subscriptions event.SubscriptionStore
	// Deliveries lists attempts for GET /subscriptions/{id}/deliveries.
	// Nil means Store, if it implements event.DeliveryLog.
	Deliveries event.DeliveryLog
	// TargetChecker vets a target URL's addresses at subscribe time (the
	// SSRF guard; *webhook.Sender implements it). Nil means syntax checks
	// only, which is right only where subscribers are trusted.
	TargetChecker TargetChecker
}

// API serves the HTTP contract. It is safe for concurrent use; create it
// with New.
type API struct {
	store   event.Store
	auth    *auth.Authenticator
	limiter auth.AttemptLimiter
	// trustedProxies and tokenLocks decide and serialize who is guessing.
	trustedProxies []netip.Prefix
	tokenLocks     clientLocks
	log            *slog.Logger
	now            func() time.Time
	ids            *event.IDs
	retention      time.Duration
	maxBody        int64
	version        string

	subs       event.SubscriptionStore
	deliveries event.DeliveryLog
	targets    TargetChecker

	handlers map[string]handlerFunc
	all      http.Handler
}

// handlerFunc is a route's handler. It writes the success response itself
// and returns any error for writeProblem to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routeHandlers maps every route pattern of routes.Table to its handler.
// Adding a route is one line here plus one in the table; New refuses to
// start if the two disagree.
func (a *API) routeHandlers() map[string]handlerFunc {
	return map[string]handlerFunc{
		"GET /health":          a.health,
		"POST /token":          a.token,
		"POST /events":         a.createEvent,
		"GET /events/{id}":     a.getEvent,
		"GET /inbox":           a.listInbox,
		"POST /inbox/{id}/ack": a.ackEvent,
		"GET /openapi.json":    a.openAPIDocument,
		"GET /docs":            a.docsPage,

		"POST /subscriptions":                a.createSubscription,
		"GET /subscriptions":                 a.listSubscriptions,
		"GET /subscriptions/{id}":            a.getSubscription,
		"DELETE /subscriptions/{id}":         a.deleteSubscription,
		"GET /subscriptions/{id}/deliveries": a.listDeliveries,
	}
}

// New returns an API for cfg. It fails if cfg has no Store or if the route
// table and the handlers disagree.
func New(cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("httpapi: Config.Store is required")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("httpapi: Config.MaxBodyBytes must not be negative, got %d", cfg.MaxBodyBytes)
	}
	a := &API{
		store:          cfg.Store,
		auth:           cfg.Auth,
		limiter:        cfg.Limiter,
		trustedProxies: cfg.TrustedProxies,
		now:            cfg.Now,
		ids:            cfg.IDs,
		retention:      cfg.Retention,
		maxBody:        cfg.MaxBodyBytes,
		version:        cfg.Version,

		subs:       cfg.Subscriptions,
		deliveries: cfg.Deliveries,
		targets:    cfg.TargetChecker,
	}
	if a.subs == nil {
		a.subs, _ = cfg.Store.(event.SubscriptionStore)
	}
	if a.deliveries == nil {
		a.deliveries, _ = cfg.Store.(event.DeliveryLog)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a.log = slog.New(contextHandler{logger.Handler()})
	if a.now == nil {
		a.now = time.Now
	}
	if a.ids == nil {
		a.ids = new(event.IDs)
	}
	if a.retention <= 0 {
		a.retention = event.DefaultRetention
	}
	if a.maxBody == 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	a.handlers = a.routeHandlers()
	if err := checkTable(routes.Table, a.handlers); err != nil {
		return nil, err
	}
	a.all = a.serve(routes.Table)
	return a, nil
}

// checkTable reports routes without a handler and handlers without a route.
func checkTable(table []routes.Route, handlers map[string]handlerFunc) error {
	var problems []string
	inTable := make(map[string]bool, len(table))
	for _, rt := range table {
		inTable[rt.Pattern()] = true
		if handlers[rt.Pattern()] == nil {
			problems = append(problems, "route "+rt.Pattern()+" has no handler")
		}
	}
	for pattern := range handlers {
		if !inTable[pattern] {
			problems = append(problems, "handler "+pattern+" is not in routes.Table")
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New("httpapi: " + strings.Join(problems, "; "))
	}
	return nil
}

// Handler returns the handler for every route of routes.Table, with the
// middleware. The single binary mounts it.
func (a *API) Handler() http.Handler { return a.all }

// FunctionHandler returns a handler for only the routes that the named
// Lambda function serves (routes.ForFunction), with the same middleware
// and the same answers for unknown paths and methods. An unknown function
// name serves no routes.
func (a *API) FunctionHandler(function string) http.Handler {
	return a.serve(routes.ForFunction(function))
}

// serve builds the mux for some routes of the table. Besides each route's
// method pattern it registers, per path, a method-less pattern that answers
// 405 with Allow, and a catch-all that answers 404, so that even the mux's
// own answers are problem+json.
func (a *API) serve(table []routes.Route) http.Handler {
	mux := http.NewServeMux()
	allowed := make(map[string][]string)
	var paths []string
	for _, rt := range table {
		mux.Handle(rt.Pattern(), a.route(rt))
		if allowed[rt.Path] == nil {
			paths = append(paths, rt.Path)
		}
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
	}
	for _, path := range paths {
		mux.Handle(path, a.methodNotAllowed(path, allowed[path]))
	}
	notFound := a.fallback(a.notFound)
	mux.Handle("/", notFound)
	// The catch-all does not see every request: a CONNECT or an
	// authority-form target has no path for "/" to match, and the mux would
	// answer with its own text/plain 404. Ask the mux first.
	dispatch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			notFound.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return a.middleware(dispatch)
}

// route wraps a route's handler with its auth requirement and error writing.
func (a *API) route(rt routes.Route) http.Handler {
	h := a.handlers[rt.Pattern()]
	if !rt.Public {
		h = a.authenticated(auth.Scope(rt.Scope), h)
	}
	pattern := rt.Pattern()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		infoFrom(r.Context()).route = pattern
		if err := h(w, r); err != nil {
			writeProblem(w, r, err)
		}
	})
}

// fallback serves the mux's own answers (404, 405) as problem+json.
func (a *API) fallback(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeProblem(w, r, err)
		}
	})
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) error {
	return event.Errorf(event.CodeNotFound, "no route matches this path; see docs/api.md for the routes")
}

// methodNotAllowed answers a known path with a method the table lacks.
// HEAD is allowed wherever GET is, as the mux serves it.
func (a *API) methodNotAllowed(path string, methods []string) http.Handler {
	allow := slices.Clone(methods)
	if slices.Contains(allow, http.MethodGet) {
		allow = append(allow, http.MethodHead)
	}
	slices.Sort(allow)
	allowHeader := strings.Join(allow, ", ")
	return a.fallback(func(w http.ResponseWriter, r *http.Request) error {
		infoFrom(r.Context()).route = path
		w.Header().Set("Allow", allowHeader)
		return event.Errorf(CodeMethodNotAllowed, "method %q is not allowed on %s; allowed: %s", clipMethod(r.Method), path, allowHeader)
	})
}
