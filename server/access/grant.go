package access

// Grant returns the grant of the API key secret (without its hash): what
// /sql scopes a query to. An unknown key is an error wrapping
// base.ErrUnauthorized.
func (s *Store) Grant(secret []byte) (APIKey, error) {
	k, err := s.apiKey(secret)
	if err != nil {
		return APIKey{}, err
	}
	k.Hash = ""
	return k, nil
}
