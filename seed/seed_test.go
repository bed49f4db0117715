package seed

import (
	"reflect"
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
