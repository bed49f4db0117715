// Package seed makes deterministic, realistic data for the identities
// store: the same options always give the same dataset.
package seed

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/identities-go/identities/store"
)

// Options say how much data to make.
type Options struct {
	// Companies is how many companies to make (at least 1). From the third
	// on, every third company's plan lacks the API feature.
	Companies int
	// Identities is how many identities of each family each company gets.
	Identities int
	// Seed drives every random choice.
	Seed uint64
}

// Validate reports options Generate and Stream reject.
func (o Options) Validate() error {
	if o.Companies < 1 || o.Identities < 0 {
		return fmt.Errorf("seed: need at least one company and no negative identity count, got %d and %d", o.Companies, o.Identities)
	}
	return nil
}

// DefaultOptions is the demo data: three companies, one without the API in
// its plan, with users who have not accepted the terms.
var DefaultOptions = Options{Companies: 3, Identities: 120, Seed: 1}

// epoch anchors every generated time, so data does not depend on the clock.
var epoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

var (
	firstNames = []string{"Sally", "John", "Ada", "Grace", "Linus", "Ken", "Barbara", "Edsger", "Margaret", "Dennis", "Frances", "Alan", "Radia", "Tim", "Katherine", "Niklaus", "Hedy", "Donald", "Shafi", "Leslie"}
	lastNames  = []string{"Smith", "Doe", "Lovelace", "Hopper", "Torvalds", "Thompson", "Liskov", "Dijkstra", "Hamilton", "Ritchie", "Allen", "Turing", "Perlman", "Berners-Lee", "Johnson", "Wirth", "Lamarr", "Knuth", "Goldwasser", "Lamport"}
	jobTitles  = []string{"CEO", "CTO", "Engineer", "Senior Engineer", "SRE", "Security Analyst", "Product Manager", "Designer", "Data Scientist", "Support Lead"}
	roleSets   = [][]string{{"ADMIN", "EMPLOYEE"}, {"EMPLOYEE"}, {"EMPLOYEE", "TECHGOV"}, {"WORKSPACE_ADMINISTRATOR", "EMPLOYEE"}, {"AUDITOR"}}
	botNames   = []string{"deploy-bot", "ci-runner", "terraform", "backup-agent", "monitoring", "release-bot", "dependabot", "etl-service"}
	docTypes   = []struct{ name, typ string }{{"Security Training", "SEC_TRAINING"}, {"Acceptable Use Policy", "POLICY"}, {"HIPAA Training", "HIPAA_TRAINING"}, {"Offer Letter", "OFFER_LETTER"}}
	companies  = []string{"Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Soylent", "Tyrell", "Cyberdyne"}
	states     = []string{"ACTIVE", "ACTIVE", "ACTIVE", "MISCONFIGURED", "PENDING"}
)

// gen holds the generator's state: the random source, the next ids and the
// part being filled, which it hands to yield when it holds partSize
// identities.
type gen struct {
	r     *rand.Rand
	ids   map[string]int64
	d     *store.Dataset
	conns []*store.Connection // the part's, as stable pointers until flush copies them out

	partSize int // identities per part; 0: one part
	left     int // identities still to make
	yield    func(*store.Dataset, error) bool
	stopped  bool                      // yield returned false
	types    map[store.Family][]string // client types by family, from the document
}

func (g *gen) next(kind string) int64 {
	g.ids[kind]++
	return g.ids[kind]
}

// at returns a time up to days after the epoch, to the millisecond.
func (g *gen) at(days int) time.Time {
	return epoch.Add(time.Duration(g.r.Int64N(int64(days) * int64(24*time.Hour)))).Truncate(time.Millisecond)
}

func (g *gen) maybeAt(p float64, days int) *time.Time {
	if g.r.Float64() >= p {
		return nil
	}
	t := g.at(days)
	return &t
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func ptr[T any](v T) *T { return &v }

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

// Generate makes a dataset. It collects what Stream yields into one.
func Generate(o Options) (*store.Dataset, error) {
	var d *store.Dataset
	for part, err := range Stream(o, 0) {
		if err != nil {
			return nil, err
		}
		if d == nil {
			d = part
			continue
		}
		d.Companies = append(d.Companies, part.Companies...)
		d.Users = append(d.Users, part.Users...)
		d.Connections = append(d.Connections, part.Connections...)
		d.Identities = append(d.Identities, part.Identities...)
	}
	return d, nil
}

// Stream yields the dataset Generate makes, in parts of at most partSize
// identities each (all in one part when partSize < 1), so that a caller
// such as a store's Load never holds all of it. Concatenating the parts'
// slices gives exactly Generate's dataset.
//
// Records go into the part being filled in the order they are made, and a
// part is yielded as soon as it holds partSize identities; the last part
// holds the rest and may have no identities. A company's records come in
// this order: the company, its identity provider connection, its users
// (whose person identities are found through that connection), then per
// family the family's connections and its identities. So every record
// refers only to records of its own part or of earlier parts; every part
// but the first begins right after an identity. Each part is a new Dataset
// the caller may keep.
//
// Invalid options yield one error and no part.
func Stream(o Options, partSize int) iter.Seq2[*store.Dataset, error] {
	return func(yield func(*store.Dataset, error) bool) {
		if err := o.Validate(); err != nil {
			yield(nil, err)
			return
		}
		types, err := clientTypes()
		if err != nil {
			yield(nil, err)
			return
		}
		g := &gen{
			types:    types,
			r:        rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
			ids:      map[string]int64{},
			partSize: max(partSize, 0),
			left:     o.Companies * o.Identities * 2,
			yield:    yield,
		}
		g.newPart()
		for i := range o.Companies {
			if g.company(i, o.Identities); g.stopped {
				return
			}
		}
		if len(g.d.Companies)+len(g.d.Users)+len(g.conns)+len(g.d.Identities) > 0 {
			g.flush()
		}
	}
}

// newPart starts an empty part with room for the identities it will hold.
func (g *gen) newPart() {
	n := g.left
	if g.partSize > 0 {
		n = min(n, g.partSize)
	}
	g.d, g.conns = &store.Dataset{}, nil
	if n > 0 {
		g.d.Identities = make([]store.Identity, 0, n)
	}
}

// flush yields the part being filled and starts the next one.
func (g *gen) flush() {
	for _, c := range g.conns {
		g.d.Connections = append(g.d.Connections, *c)
	}
	if !g.yield(g.d, nil) {
		g.stopped = true
		return
	}
	g.newPart()
}

func (g *gen) company(index, identities int) {
	name := companies[index%len(companies)]
	if index >= len(companies) {
		name = fmt.Sprintf("%s %d", name, index/len(companies)+1)
	}
	c := store.Company{ID: g.next("company"), Name: name, PlanIncludesAPI: index%3 != 2, CreatedAt: epoch.Add(-time.Duration(index+1) * 24 * time.Hour)}
	g.d.Companies = append(g.d.Companies, c)

	// No part is flushed before the first identity, so the owner set below
	// reaches the copy of idp that its part holds.
	idp := g.connection(c.ID, "GOOGLE", nil)
	nUsers := min(8+identities/25, 400)
	users := make([]int64, nUsers)
	for u := range users {
		users[u] = g.user(c, u, idp)
	}
	idp.OwnerUserID = &users[0]
	var designators []int64
	for _, u := range g.d.Users[len(g.d.Users)-nUsers:] {
		if u.Roles[0] == "ADMIN" || u.Roles[0] == "WORKSPACE_ADMINISTRATOR" {
			designators = append(designators, u.ID)
		}
	}
	if len(designators) == 0 {
		designators = users[:1]
	}

	for _, family := range []store.Family{store.Infrastructure, store.VersionControl} {
		types := g.types[family]
		var conns []*store.Connection
		for k := range 2 + g.r.IntN(3) {
			owner := users[g.r.IntN(len(users))]
			conns = append(conns, g.connection(c.ID, types[(index+k*3)%len(types)], &owner))
		}
		for range identities {
			if g.identity(c.ID, family, conns[g.r.IntN(len(conns))], users, designators); g.stopped {
				return
			}
		}
	}
}

func (g *gen) connection(companyID int64, clientType string, owner *int64) *store.Connection {
	id := g.next("connection")
	connectedAt := g.at(30)
	c := store.Connection{
		ID: id, CompanyID: companyID, ClientType: clientType, State: g.pick(states), Connected: true,
		ConnectedAt: &connectedAt, AssignmentID: ptr(g.hex(8)), OwnerUserID: owner,
		AccountID: ptr(fmt.Sprintf("%012d", g.r.Int64N(1e12))), ClientID: ptr(fmt.Sprintf("%s-%s", clientType, g.hex(6))),
		ClientAlias: ptr(fmt.Sprintf("%s-connection-%d", clientType, id)), RequestorID: ptr(g.uuid()),
		Product: map[string]any{"id": 1, "name": "Drata"}, WriteAccessEnabled: g.r.IntN(4) == 0, Authorized: true,
		ProviderTypes: []int64{int64(1 + g.r.IntN(8))}, Code: ptr(int64(10010)), GroupLabel: ptr("Everyone"),
	}
	if c.State != "ACTIVE" {
		c.Connected = false
		c.FailedAt = g.maybeAt(0.8, 60)
	}
	if g.r.IntN(3) == 0 {
		c.AliasUpdatedAt = g.maybeAt(1, 60)
	}
	g.conns = append(g.conns, &c)
	return &c
}

func (g *gen) uuid() string {
	return fmt.Sprintf("%s-%s-4%s-a%s-%s", g.hex(8), g.hex(4), g.hex(3), g.hex(3), g.hex(12))
}

func (g *gen) user(c store.Company, index int, idp *store.Connection) int64 {
	id := g.next("user")
	first, last := g.pick(firstNames), g.pick(lastNames)
	created := g.at(90)
	u := store.User{
		ID: id, CompanyID: c.ID, EntryID: g.uuid(),
		Email:     fmt.Sprintf("%s.%s.%d@%s.example.com", lower(first), lower(last), id, slug(c.Name)),
		FirstName: first, LastName: last, JobTitle: ptr(g.pick(jobTitles)),
		Roles:     roleSets[g.r.IntN(len(roleSets))],
		CreatedAt: created, UpdatedAt: created.Add(time.Hour),
	}
	if index == 0 {
		u.Roles = roleSets[0]
	}
	// Every fifth user (never the first) has not accepted the terms.
	if index == 0 || index%5 != 4 {
		u.TermsAgreedAt = ptr(created.Add(2 * time.Hour))
	}
	u.BackgroundChecks = []store.BackgroundCheck{{
		ID: g.next("check"), UserID: id, Status: g.pick([]string{"OK", "OK", "PENDING", "NEEDS_REVIEW"}),
		CaseID: ptr(g.hex(6)), CaseInvitationID: ptr(g.hex(6)), Type: "CERTN", Source: "DRATA",
		InvitationEmail: ptr(u.Email), LinkedAt: ptr(created), CreatedAt: created, UpdatedAt: created,
	}}
	pi := store.PersonIdentity{
		ID: g.next("person"), UserID: id, IdentityID: g.hex(10), Username: u.Email,
		ConnectedAt: ptr(created), HasMFA: g.r.IntN(5) != 0, HasIDP: true,
		FirstName: ptr(first), LastName: ptr(last), StartedAt: ptr(created.Add(-30 * 24 * time.Hour)),
		IsContractor: g.r.IntN(8) == 0, JobTitle: u.JobTitle, ManagerName: ptr(g.pick(firstNames) + " " + g.pick(lastNames)),
		ManagerID: ptr(g.hex(6)), Connection: idp,
	}
	u.Identities = []store.PersonIdentity{pi}
	for k := range 1 + g.r.IntN(3) {
		dt := docTypes[(index+k)%len(docTypes)]
		renew := created.AddDate(1, 0, 0).Truncate(24 * time.Hour)
		u.Documents = append(u.Documents, store.Document{
			ID: g.next("document"), UserID: id, Name: dt.name, Type: dt.typ, RenewalDate: &renew,
			FileURL: ptr(fmt.Sprintf("https://files.example.com/%d/%s.pdf", id, lower(dt.typ))), CreatedAt: created, UpdatedAt: created,
		})
	}
	g.d.Users = append(g.d.Users, u)
	return id
}

func (g *gen) identity(companyID int64, family store.Family, conn *store.Connection, users, designators []int64) {
	id := g.next("identity")
	created := g.at(120)
	it := store.Identity{
		ID: id, CompanyID: companyID, Family: family, ConnectionID: conn.ID,
		IdentityID: g.hex(12), HasMFA: g.r.IntN(3) != 0, CreatedAt: created, UpdatedAt: created,
		LastCheckedAt: ptr(created.Add(time.Duration(g.r.IntN(72)) * time.Hour)),
	}
	switch roll := g.r.IntN(10); {
	case roll == 0: // a machine account
		it.Username = fmt.Sprintf("%s-%d", g.pick(botNames), id)
		reason := "Used by " + it.Username + " to automate deployments"
		it.ServiceAccountAt = ptr(created.Add(24 * time.Hour))
		it.ServiceAccountReason = &reason
		it.DesignatorID = &designators[g.r.IntN(len(designators))]
	default:
		first, last := g.pick(firstNames), g.pick(lastNames)
		it.Username = fmt.Sprintf("%s.%s%d", lower(first), lower(last), id)
		if roll < 8 {
			it.Email = ptr(fmt.Sprintf("%s@example.com", it.Username))
		}
		if roll < 7 {
			it.UserID = &users[g.r.IntN(len(users))]
			it.ConnectedAt = ptr(created.Add(time.Hour))
		} else if roll == 7 {
			it.ConnectedAt = ptr(created.Add(time.Hour))
			it.DisconnectedAt = ptr(created.Add(48 * time.Hour))
		}
	}
	it.AccessA = g.maybeAt(0.3, 120)
	it.AccessB = g.maybeAt(0.2, 120)
	g.d.Identities = append(g.d.Identities, it)
	g.left--
	if g.partSize > 0 && len(g.d.Identities) == g.partSize {
		g.flush()
	}
}

func lower(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "")) }

func slug(s string) string { return strings.ReplaceAll(lower(s), "-", "") }

// Summary describes a dataset for people and scripts: per company, its plan,
// its users (and whether each accepted the terms) and its identity counts.
type Summary struct {
	Companies []CompanySummary `json:"companies"`

	index map[int64]int // Companies' index by id, built by Add
}

// CompanySummary is one company of a Summary.
type CompanySummary struct {
	ID                       int64         `json:"id"`
	Name                     string        `json:"name"`
	PlanIncludesAPI          bool          `json:"planIncludesApi"`
	Users                    []UserSummary `json:"users"`
	InfrastructureIdentities int           `json:"infrastructureIdentities"`
	VersionControlIdentities int           `json:"versionControlIdentities"`
}

// UserSummary is one user of a CompanySummary.
type UserSummary struct {
	ID            int64 `json:"id"`
	TermsAccepted bool  `json:"termsAccepted"`
}

// Summarize describes d.
func Summarize(d *store.Dataset) Summary {
	s := Summary{Companies: make([]CompanySummary, 0, len(d.Companies))}
	s.Add(d)
	return s
}

// Add adds one part of a dataset, such as Stream yields, to the summary.
// The part's users and identities must belong to companies of this part or
// of parts added before; those of other companies are not counted.
func (s *Summary) Add(part *store.Dataset) {
	if s.index == nil {
		s.index = make(map[int64]int, len(s.Companies)+len(part.Companies))
		for i, c := range s.Companies {
			s.index[c.ID] = i
		}
	}
	for _, c := range part.Companies {
		s.index[c.ID] = len(s.Companies)
		s.Companies = append(s.Companies, CompanySummary{ID: c.ID, Name: c.Name, PlanIncludesAPI: c.PlanIncludesAPI, Users: []UserSummary{}})
	}
	for _, u := range part.Users {
		if i, ok := s.index[u.CompanyID]; ok {
			c := &s.Companies[i]
			c.Users = append(c.Users, UserSummary{ID: u.ID, TermsAccepted: u.TermsAgreedAt != nil})
		}
	}
	for _, it := range part.Identities {
		i, ok := s.index[it.CompanyID]
		switch {
		case !ok:
		case it.Family == store.Infrastructure:
			s.Companies[i].InfrastructureIdentities++
		default:
			s.Companies[i].VersionControlIdentities++
		}
	}
}
