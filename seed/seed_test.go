package seed

import (
	"reflect"
	"runtime"
	"testing"

	"github.com/identities-go/identities/store"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate(Options{Companies: 4, Identities: 30, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(Options{Companies: 4, Identities: 30, Seed: 9})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same options gave different data")
	}
	c, _ := Generate(Options{Companies: 4, Identities: 30, Seed: 10})
	if reflect.DeepEqual(a.Identities, c.Identities) {
		t.Fatal("a different seed gave the same identities")
	}
}

func TestGenerateCoversThePolicyCases(t *testing.T) {
	d, err := Generate(DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(d)
	if len(s.Companies) != 3 {
		t.Fatalf("%d companies", len(s.Companies))
	}
	var noPlan, noTerms bool
	for _, c := range s.Companies {
		noPlan = noPlan || !c.PlanIncludesAPI
		for _, u := range c.Users {
			noTerms = noTerms || !u.TermsAccepted
		}
		if c.InfrastructureIdentities != DefaultOptions.Identities || c.VersionControlIdentities != DefaultOptions.Identities {
			t.Fatalf("company %d: %d/%d identities", c.ID, c.InfrastructureIdentities, c.VersionControlIdentities)
		}
		if !c.Users[0].TermsAccepted {
			t.Fatalf("company %d: the first user has not accepted the terms", c.ID)
		}
	}
	if !noPlan || !noTerms {
		t.Fatalf("demo data lacks a company without the API (%v) or a user without terms (%v)", noPlan, noTerms)
	}
}

func TestGenerateKeepsReferencesInsideTheCompany(t *testing.T) {
	d, err := Generate(Options{Companies: 3, Identities: 50, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	userCompany := map[int64]int64{}
	for _, u := range d.Users {
		userCompany[u.ID] = u.CompanyID
	}
	connCompany := map[int64]int64{}
	for _, c := range d.Connections {
		connCompany[c.ID] = c.CompanyID
		if c.OwnerUserID != nil && userCompany[*c.OwnerUserID] != c.CompanyID {
			t.Fatalf("connection %d owned by another company's user", c.ID)
		}
	}
	seen := map[int64]bool{}
	for _, it := range d.Identities {
		if seen[it.ID] {
			t.Fatalf("identity id %d repeats", it.ID)
		}
		seen[it.ID] = true
		if connCompany[it.ConnectionID] != it.CompanyID {
			t.Fatalf("identity %d found through another company's connection", it.ID)
		}
		for _, u := range []*int64{it.UserID, it.DesignatorID} {
			if u != nil && userCompany[*u] != it.CompanyID {
				t.Fatalf("identity %d refers to another company's user", it.ID)
			}
		}
		if (it.ServiceAccountAt == nil) != (it.DesignatorID == nil) || (it.ServiceAccountAt == nil) != (it.ServiceAccountReason == nil) {
			t.Fatalf("identity %d: service account fields disagree", it.ID)
		}
		if it.Family != store.Infrastructure && it.Family != store.VersionControl {
			t.Fatalf("identity %d: family %q", it.ID, it.Family)
		}
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{{Companies: 0, Identities: 1}, {Companies: 1, Identities: -1}} {
		if _, err := Generate(o); err == nil {
			t.Fatalf("%+v accepted", o)
		}
	}
}

// concat joins the parts Stream yields, as a loader would see them.
func concat(t *testing.T, o Options, partSize int) (*store.Dataset, []*store.Dataset) {
	t.Helper()
	d := &store.Dataset{}
	var parts []*store.Dataset
	for part, err := range Stream(o, partSize) {
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, part)
		d.Companies = append(d.Companies, part.Companies...)
		d.Users = append(d.Users, part.Users...)
		d.Connections = append(d.Connections, part.Connections...)
		d.Identities = append(d.Identities, part.Identities...)
	}
	return d, parts
}

func TestStreamConcatenatesToGenerate(t *testing.T) {
	for _, o := range []Options{DefaultOptions, {Companies: 2, Identities: 0, Seed: 3}, {Companies: 5, Identities: 33, Seed: 4}} {
		want, err := Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{0, 1, 7, 66, 1000} {
			got, parts := concat(t, o, size)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%+v in parts of %d: the parts differ from Generate", o, size)
			}
			for i, p := range parts {
				if size > 0 && len(p.Identities) > size {
					t.Fatalf("%+v: part %d has %d identities, more than %d", o, i, len(p.Identities), size)
				}
				if len(p.Companies)+len(p.Users)+len(p.Connections)+len(p.Identities) == 0 {
					t.Fatalf("%+v in parts of %d: part %d is empty", o, size, i)
				}
			}
			if total, n := 2*o.Companies*o.Identities, len(parts); size > 0 && total > 0 && n != (total+size-1)/size {
				t.Fatalf("%+v: %d parts of %d for %d identities", o, n, size, total)
			}
		}
	}
}

func TestStreamPartsReferOnlyToEarlierRecords(t *testing.T) {
	companies, users, conns := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for part, err := range Stream(Options{Companies: 4, Identities: 25, Seed: 8}, 9) {
		if err != nil {
			t.Fatal(err)
		}
		// Within a part, users and connections may refer to each other.
		for _, c := range part.Companies {
			companies[c.ID] = true
		}
		for _, u := range part.Users {
			users[u.ID] = true
		}
		for _, c := range part.Connections {
			conns[c.ID] = true
		}
		for _, c := range part.Connections {
			if !companies[c.CompanyID] || c.OwnerUserID != nil && !users[*c.OwnerUserID] {
				t.Fatalf("connection %d refers to a later record", c.ID)
			}
		}
		for _, u := range part.Users {
			if !companies[u.CompanyID] {
				t.Fatalf("user %d comes before its company", u.ID)
			}
			for _, pi := range u.Identities {
				if pi.Connection != nil && !conns[pi.Connection.ID] {
					t.Fatalf("user %d: person identity found through a later connection", u.ID)
				}
			}
		}
		for _, it := range part.Identities {
			if !companies[it.CompanyID] || !conns[it.ConnectionID] {
				t.Fatalf("identity %d comes before its company or connection", it.ID)
			}
			for _, u := range []*int64{it.UserID, it.DesignatorID} {
				if u != nil && !users[*u] {
					t.Fatalf("identity %d refers to a later user", it.ID)
				}
			}
		}
	}
}

func TestStreamStopsWhenAsked(t *testing.T) {
	n := 0
	for range Stream(Options{Companies: 3, Identities: 10, Seed: 1}, 4) {
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("%d parts", n)
	}
	for _, err := range Stream(Options{Companies: 0}, 4) {
		if err == nil {
			t.Fatal("bad options gave a part")
		}
	}
}

func TestSummaryAddEqualsSummarize(t *testing.T) {
	o := Options{Companies: 4, Identities: 21, Seed: 6}
	d, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	for part, err := range Stream(o, 10) {
		if err != nil {
			t.Fatal(err)
		}
		s.Add(part)
	}
	if want := Summarize(d); !reflect.DeepEqual(s.Companies, want.Companies) {
		t.Fatalf("added up:\n%+v\nsummarized:\n%+v", s.Companies, want.Companies)
	}
}

// BenchmarkStream1M streams a million identities of each family for one
// company, as the seed command does, and reports the peak heap in use
// between parts. Run it once: go test -run - -bench Stream1M -benchtime 1x ./seed/
func BenchmarkStream1M(b *testing.B) {
	o := Options{Companies: 1, Identities: 1_000_000, Seed: 1}
	for b.Loop() {
		var peak uint64
		var ms runtime.MemStats
		n := 0
		for part, err := range Stream(o, 10_000) {
			if err != nil {
				b.Fatal(err)
			}
			n += len(part.Identities)
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		if n != 2*o.Identities {
			b.Fatalf("%d identities", n)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
}
