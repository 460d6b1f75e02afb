package auth

import (
	"bufio"
	_ "embed" // the common-password list
	"strings"
	"sync"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/repurpose/repurpose/core"
)

// Password length bounds in bytes; bcrypt ignores everything past 72.
const (
	MinPasswordBytes = 12
	MaxPasswordBytes = 72
)

// commonPasswords is the most-common-passwords list of zxcvbn-ts
// (@zxcvbn-ts/language-common 3.0.4, MIT, (c) Dan Wheeler and Dropbox),
// lower-cased, one per line.
//
//go:embed common_passwords.txt
var commonPasswords string

var (
	commonOnce sync.Once
	commonSet  map[string]struct{}
)

func isCommon(s string) bool {
	commonOnce.Do(func() {
		commonSet = make(map[string]struct{}, 50000)
		sc := bufio.NewScanner(strings.NewReader(commonPasswords))
		for sc.Scan() {
			commonSet[sc.Text()] = struct{}{}
		}
	})
	_, ok := commonSet[s]
	return ok
}

// ValidatePassword checks the password policy: MinPasswordBytes to
// MaxPasswordBytes bytes, not a common password (nor one padded with digits
// or symbols), not a single repeated character, and not the email's own
// name. field names the input in the error, e.g. "body.password".
func ValidatePassword(password, email, field string) error {
	bad := func(msg string) error {
		return core.Invalid("the password does not meet the policy", core.FieldError{Location: field, Message: msg})
	}
	switch n := len(password); {
	case n < MinPasswordBytes:
		return bad("must be at least 12 bytes long")
	case n > MaxPasswordBytes:
		return bad("must be at most 72 bytes long")
	}
	lower := strings.ToLower(password)
	base := strings.TrimRightFunc(lower, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	if isCommon(lower) || (len(base) >= 4 && isCommon(base)) {
		return bad("is too common; choose a less guessable password")
	}
	if strings.Count(lower, lower[:1]) == len(lower) {
		return bad("must not repeat a single character")
	}
	if local, _, ok := strings.Cut(core.NormalizeEmail(email), "@"); ok && len(local) >= 4 && strings.Contains(lower, local) {
		return bad("must not contain the email address")
	}
	return nil
}

// Hasher hashes passwords with bcrypt at a fixed cost.
type Hasher struct {
	cost int
	// dummy is a hash of a fixed password, compared against when the
	// account does not exist so both failures take the same time. It is
	// made at the first such compare, not at start: one hash at cost 12 is
	// most of a Lambda cold start.
	dummyOnce sync.Once
	dummy     []byte
}

// NewHasher returns a Hasher at cost (bcrypt.MinCost..bcrypt.MaxCost).
func NewHasher(cost int) (*Hasher, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, core.Errorf(core.EINVALID, "bcrypt cost must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &Hasher{cost: cost}, nil
}

// Hash returns the bcrypt hash of password.
func (h *Hasher) Hash(password string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), h.cost)
	if err != nil {
		return "", core.Internal(err)
	}
	return string(b), nil
}

// Matches reports whether password matches hash.
func (h *Hasher) Matches(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// SpendDummyCompare burns the time of one comparison so an unknown account
// answers as slowly as a wrong password.
func (h *Hasher) SpendDummyCompare(password string) {
	h.dummyOnce.Do(func() {
		// Cannot fail: the cost was checked and the password is short.
		h.dummy, _ = bcrypt.GenerateFromPassword([]byte("dummy password for absent accounts"), h.cost)
	})
	_ = bcrypt.CompareHashAndPassword(h.dummy, []byte(password))
}
