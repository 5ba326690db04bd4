package access

import (
	"strings"

	"github.com/ducktail/ducktail/base"
)

// CheckAccountKey returns nil if secret is an account-wide API key (one
// granting the whole account, not one stream) of account with the right r.
// A stream factory may grant its account substreams /a/s(account) to such
// keys (engine.Settings.AccountRights). Errors are as CheckAPIKey's.
func (s *Store) CheckAccountKey(secret []byte, account string, r Right) error {
	k, err := s.apiKey(secret)
	if err != nil {
		return err
	}
	if k.Account != account || k.Stream != "" || !strings.ContainsRune(k.Rights, rune(r)) {
		return base.Errorf(base.ErrForbidden, "this API key is not an account-wide key of %s that may %s", account, verb(r))
	}
	return nil
}
