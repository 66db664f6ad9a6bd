package drift

import "errors"

// ErrNoSnapshot reports a check without a policy snapshot.
var ErrNoSnapshot = errors.New("drift: no policy snapshot")
