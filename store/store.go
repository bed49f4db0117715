// Package store defines the persistence boundary of the identities server:
// the records it keeps, the queries and changes the API needs, and the
// sentinel errors callers test with errors.Is. Implementations live in
// subpackages (store/sqlite); handlers depend only on this package.
package store

import (
	"context"
	"errors"
	"iter"
	"time"
)

// Sentinel errors. Implementations wrap them with %w.
var (
	// ErrNotFound: no such record in the caller's company.
	ErrNotFound = errors.New("store: not found")
	// ErrUserNotFound: the user to link does not exist in the caller's company.
	ErrUserNotFound = errors.New("store: user not found")
	// ErrKeyNotFound: no API key has that secret or id.
	ErrKeyNotFound = errors.New("store: api key not found")
)

// Family is one of the two identity families.
type Family string

// The identity families, as they appear in URLs.
const (
	Infrastructure Family = "infrastructure"
	VersionControl Family = "version-control"
)

// Valid reports whether f is a known family.
func (f Family) Valid() bool { return f == Infrastructure || f == VersionControl }

// Access names one of an identity's two access flags. For infrastructure
// identities AccessA is admin access and AccessB database access; for version
// control identities AccessA is write access and AccessB push-to-production.
type Access int

// The access flags.
const (
	AccessA Access = iota + 1
	AccessB
)

// Company is a tenant.
type Company struct {
	ID              int64
	Name            string
	PlanIncludesAPI bool
	CreatedAt       time.Time
}

// User is a person with a Drata account in one company.
type User struct {
	ID            int64
	CompanyID     int64
	EntryID       string
	Email         string
	FirstName     string
	LastName      string
	JobTitle      *string
	TermsAgreedAt *time.Time
	Roles         []string
	CreatedAt     time.Time
	UpdatedAt     time.Time

	BackgroundChecks []BackgroundCheck
	Identities       []PersonIdentity
	Documents        []Document
}

// BackgroundCheck is a background check of a user.
type BackgroundCheck struct {
	ID               int64
	UserID           int64
	Status           string
	CaseID           *string
	CaseInvitationID *string
	ManualCheckDate  *time.Time
	ManuallyCheckURL *string
	Type             string
	Source           string
	ReportData       *string
	OutOfScopeReason *string
	OutOfScopeAt     *time.Time
	InvitationEmail  *string
	LinkedAt         *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// PersonIdentity is a user's person-level identity, such as their account
// in the identity provider.
type PersonIdentity struct {
	ID             int64
	UserID         int64
	IdentityID     string
	Username       string
	ConnectedAt    *time.Time
	DisconnectedAt *time.Time
	HasMFA         bool
	HasIDP         bool
	SecondaryEmail *string
	FirstName      *string
	LastName       *string
	StartedAt      *time.Time
	SeparatedAt    *time.Time
	IsContractor   bool
	JobTitle       *string
	ManagerID      *string
	ManagerName    *string
	// Connection is the connection the identity was found through, or nil.
	Connection *Connection
}

// Document is a document of a user.
type Document struct {
	ID          int64
	UserID      int64
	Name        string
	Type        string
	FileURL     *string
	RenewalDate *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Connection is a company's connection to an outside service.
type Connection struct {
	ID                 int64
	CompanyID          int64
	ClientType         string
	State              string
	Connected          bool
	ConnectedAt        *time.Time
	FailedAt           *time.Time
	AssignmentID       *string
	OwnerUserID        *int64
	AccountID          *string
	ClientID           *string
	ClientAlias        *string
	ManuallyUpdatedAt  *time.Time
	AliasUpdatedAt     *time.Time
	DeletedAt          *time.Time
	RequestorID        *string
	Product            map[string]any
	WriteAccessEnabled bool
	SourcePreference   *string
	SecurityLabel      *string
	JQLQuery           *string
	Authorized         bool
	ProviderTypes      []int64
	Code               *int64
	GroupLabel         *string
}

// Identity is an infrastructure or version control identity.
type Identity struct {
	ID                   int64
	CompanyID            int64
	Family               Family
	ConnectionID         int64
	IdentityID           string
	Username             string
	Email                *string
	ConnectedAt          *time.Time
	DisconnectedAt       *time.Time
	ServiceAccountAt     *time.Time
	ServiceAccountReason *string
	UserID               *int64
	DesignatorID         *int64
	HasMFA               bool
	LastCheckedAt        *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
	AccessA              *time.Time
	AccessB              *time.Time
}

// IdentityView is an identity with the records the API nests in it. The
// users and the connection owner are shared pointers into one load.
type IdentityView struct {
	Identity
	User       *User
	Designator *User
	Connection *Connection
	// ConnectionOwner is the user who set up the connection, or nil.
	ConnectionOwner *User
}

// Sort names what a list is ordered by. The values are the API's.
type Sort string

// The sort keys. Not every family accepts every key.
const (
	SortIdentityID       Sort = "IDENTITY_ID"
	SortUsername         Sort = "USERNAME"
	SortEmail            Sort = "EMAIL"
	SortConnectedAt      Sort = "CONNECTED_AT"
	SortDisconnectedAt   Sort = "DISCONNECTED_AT"
	SortServiceAccount   Sort = "SERVICE_ACCOUNT"
	SortHasMFA           Sort = "HAS_MFA"
	SortAdminAccess      Sort = "ADMIN_ACCESS"
	SortDBAccess         Sort = "DB_ACCESS"
	SortWriteAccess      Sort = "WRITE_ACCESS"
	SortPushProdAccess   Sort = "PUSH_PROD_CODE_ACCESS"
	SortUser             Sort = "USER"
	SortClientID         Sort = "CLIENT_ID"
	SortClientAlias      Sort = "CLIENT_ALIAS"
	SortConnectionStatus Sort = "CONNECTION_STATUS"
)

// ListQuery selects one page of a company's identities of one family.
type ListQuery struct {
	CompanyID    int64
	Family       Family
	Page         int64 // from 1
	Limit        int64 // 1..50
	Q            string
	ClientType   string
	ConnectionID int64 // 0: any
	Sort         Sort
	Descending   bool
}

// Page is one page of identities and the count of all matches.
type Page struct {
	Items []IdentityView
	Total int64
}

// Principal is the company and user an API key acts as.
type Principal struct {
	KeyID   int64
	Company Company
	User    User
	Scopes  []string
	// AllowedNets are CIDRs the key may be used from; empty allows any.
	AllowedNets []string
}

// APIKey describes a key without its secret.
type APIKey struct {
	ID          int64
	CompanyID   int64
	UserID      int64
	Prefix      string
	Scopes      []string
	AllowedNets []string
	ExpiresAt   *time.Time
	RevokedAt   *time.Time
	CreatedAt   time.Time
}

// NewAPIKey is what creating a key records. Hash is the key's digest; the
// secret itself is never stored.
type NewAPIKey struct {
	CompanyID   int64
	UserID      int64
	Prefix      string
	Hash        []byte
	Scopes      []string
	AllowedNets []string
	ExpiresAt   *time.Time
}

// Store is a whole store: what the server calls and what administration
// needs, and Close.
type Store interface {
	Identities
	Admin
	// Close releases the store's resources.
	Close() error
}

// Identities is what the API server needs. Every method scopes its work to
// one company; another company's rows behave exactly like missing ones.
type Identities interface {
	// ListIdentities returns one page with its nested records, in a fixed
	// number of queries whatever the page size.
	ListIdentities(ctx context.Context, q ListQuery) (Page, error)
	// GetIdentity returns one identity with its nested records.
	GetIdentity(ctx context.Context, companyID int64, family Family, id int64) (IdentityView, error)
	// UpdateIdentity applies change to the identity with Apply, in one
	// transaction that sees no other writer's change between its read and
	// its write, and returns the identity as it then is. A change that
	// links a user of another company, or none, fails with ErrUserNotFound
	// and changes nothing.
	UpdateIdentity(ctx context.Context, companyID int64, family Family, id int64, change Change, now time.Time) (IdentityView, error)

	// Authenticate returns the principal of the key whose digest is hash,
	// if it is neither revoked nor expired at now; else ErrKeyNotFound.
	Authenticate(ctx context.Context, hash []byte, now time.Time) (Principal, error)
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
}

// Admin is what the key and seed commands need.
type Admin interface {
	Loader
	// CreateAPIKey records a key and returns its id.
	CreateAPIKey(ctx context.Context, k NewAPIKey, now time.Time) (int64, error)
	// ListAPIKeys lists a company's keys (all companies when companyID is 0).
	ListAPIKeys(ctx context.Context, companyID int64) ([]APIKey, error)
	// RevokeAPIKey revokes a key; revoking a revoked key keeps the first time.
	RevokeAPIKey(ctx context.Context, id int64, now time.Time) error
	// FirstUser returns the lowest user id of a company.
	FirstUser(ctx context.Context, companyID int64) (int64, error)
}

// Dataset is bulk data for a new store, such as the seed package makes.
// Ids are assigned by the producer and must be unique per kind.
type Dataset struct {
	Companies   []Company
	Users       []User // with their BackgroundChecks, Identities and Documents
	Connections []Connection
	Identities  []Identity
}

// Loader bulk-loads data into an empty store.
type Loader interface {
	// Load inserts every part that parts yields, in order and in one
	// transaction: nothing is kept unless all of it is. A record may refer
	// to records of its own part or of earlier ones, never to another
	// company's. It fails with ErrNotEmpty when the store holds data.
	Load(ctx context.Context, parts iter.Seq2[*Dataset, error]) error
}

// Whole yields d as the only part of a load.
func Whole(d *Dataset) iter.Seq2[*Dataset, error] {
	return func(yield func(*Dataset, error) bool) { yield(d, nil) }
}

// ErrNotEmpty: a bulk load was asked of a store that already holds data.
var ErrNotEmpty = errors.New("store: already holds data")
