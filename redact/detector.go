package redact

import "strings"

// Detector names one built-in detector: a shape of secret or personal data that the engine
// finds inside text. Every detector has a literal or keyword gate that is checked before any
// further work, and a validator (checksum, structure, entropy or context) that a candidate must
// pass. The zero value, DetectorUnknown, names no detector.
type Detector uint8

// The built-in detectors. Secrets come first, then personal data.
const (
	DetectorUnknown Detector = iota

	// Vendor-prefixed secrets: literal prefix, exact length and alphabet, entropy floor,
	// published sample keys excluded.
	DetectorAWSAccessKey // AKIA/ASIA/ABIA/ACCA + 16 base32 characters
	DetectorGitHubToken  // ghp_/gho_/ghu_/ghs_/ghr_ + 36, github_pat_ + 82
	DetectorGitLabToken  // glpat-, gldt-, glrt-, glptt-, glsoat-, gloas- …
	DetectorSlackToken   // xoxb-/xoxp-/xoxa-/xoxe-/xoxr-/xoxs-/xapp-
	DetectorSlackWebhook // https://hooks.slack.com/services/T…/B…/…
	DetectorStripeKey    // sk_live_/sk_test_/rk_live_/rk_test_ (publishable pk_ keys excluded)
	DetectorGoogleAPIKey // AIza + 35
	DetectorOpenAIKey    // sk-, sk-proj-, sk-svcacct-, sk-admin- with the T3BlbkFJ marker
	DetectorAnthropicKey // sk-ant-api03-/sk-ant-admin01-/sk-ant-oat01- … ending AA
	DetectorNPMToken     // npm_ + 36
	DetectorPyPIToken    // pypi-AgEIcHlwaS5vcmc…
	DetectorHuggingFace  // hf_ + 34
	DetectorSendGridKey  // SG.<22>.<43>
	DetectorDigitalOcean // dop_v1_/doo_v1_/dor_v1_ + 64 hex
	DetectorShopifyToken // shpat_/shpca_/shppa_/shpss_ + 32 hex
	DetectorAgeSecretKey // AGE-SECRET-KEY-1 + 58 bech32
	DetectorVaultToken   // hvs./hvb./hvr. + 24+
	DetectorDatabricks   // dapi + 32 hex

	// Structural secrets.
	DetectorPrivateKey     // PEM / OpenSSH / PGP private key blocks, the whole block
	DetectorJWT            // three base64url segments whose header decodes to JSON with "alg"
	DetectorAuthHeader     // Authorization / Proxy-Authorization / Cookie / Set-Cookie / X-Api-Key values
	DetectorURLCredentials // scheme://user:password@host: the password
	DetectorURLSecretParam // ?token=…&sig=…: the value of a secret query parameter
	DetectorAssignment     // password=…, "secret": "…", PASSWD: … in env files, YAML, JSON, text
	DetectorCommandLine    // --password x, --token=x, -p x (mysql/docker), curl -u user:pass, export X_TOKEN=…
	DetectorHighEntropy    // a random-looking value next to a token/key/credential key name

	// Personal data.
	DetectorEmail    // local@domain.tld with a letter TLD
	DetectorCard     // payment card numbers: issuer prefix and length table, Luhn
	DetectorIBAN     // IBAN: country length table, mod-97
	DetectorSSN      // US SSN ddd-dd-dddd with the never-issued ranges excluded
	DetectorPhone    // E.164 (+…) and North American formats with separators
	DetectorIPv4     // dotted quads, version strings excluded
	DetectorIPv6     // net/netip-valid addresses with at least two groups
	DetectorHomeUser // the user name in /Users/<u>/, /home/<u>/, C:\Users\<u>\

	detectorCount
)

type detectorInfo struct {
	name   string
	label  string // entity label used by ActionLabel, e.g. "[EMAIL]"
	entity string // pseudonym prefix used by ActionHash
	secret bool
	vendor bool
}

var detectorInfos = [detectorCount]detectorInfo{
	DetectorUnknown:        {name: "", label: "[REDACTED]", entity: "value"},
	DetectorAWSAccessKey:   {"aws_access_key", "[AWS_ACCESS_KEY]", "secret", true, true},
	DetectorGitHubToken:    {"github_token", "[GITHUB_TOKEN]", "secret", true, true},
	DetectorGitLabToken:    {"gitlab_token", "[GITLAB_TOKEN]", "secret", true, true},
	DetectorSlackToken:     {"slack_token", "[SLACK_TOKEN]", "secret", true, true},
	DetectorSlackWebhook:   {"slack_webhook", "[SLACK_WEBHOOK]", "secret", true, true},
	DetectorStripeKey:      {"stripe_key", "[STRIPE_KEY]", "secret", true, true},
	DetectorGoogleAPIKey:   {"google_api_key", "[GOOGLE_API_KEY]", "secret", true, true},
	DetectorOpenAIKey:      {"openai_key", "[OPENAI_KEY]", "secret", true, true},
	DetectorAnthropicKey:   {"anthropic_key", "[ANTHROPIC_KEY]", "secret", true, true},
	DetectorNPMToken:       {"npm_token", "[NPM_TOKEN]", "secret", true, true},
	DetectorPyPIToken:      {"pypi_token", "[PYPI_TOKEN]", "secret", true, true},
	DetectorHuggingFace:    {"huggingface_token", "[HUGGINGFACE_TOKEN]", "secret", true, true},
	DetectorSendGridKey:    {"sendgrid_key", "[SENDGRID_KEY]", "secret", true, true},
	DetectorDigitalOcean:   {"digitalocean_token", "[DIGITALOCEAN_TOKEN]", "secret", true, true},
	DetectorShopifyToken:   {"shopify_token", "[SHOPIFY_TOKEN]", "secret", true, true},
	DetectorAgeSecretKey:   {"age_secret_key", "[AGE_SECRET_KEY]", "secret", true, true},
	DetectorVaultToken:     {"vault_token", "[VAULT_TOKEN]", "secret", true, true},
	DetectorDatabricks:     {"databricks_token", "[DATABRICKS_TOKEN]", "secret", true, true},
	DetectorPrivateKey:     {"private_key", "[PRIVATE_KEY]", "secret", true, false},
	DetectorJWT:            {"jwt", "[JWT]", "secret", true, false},
	DetectorAuthHeader:     {"auth_header", "[CREDENTIALS]", "secret", true, false},
	DetectorURLCredentials: {"url_credentials", "[PASSWORD]", "secret", true, false},
	DetectorURLSecretParam: {"url_secret_param", "[SECRET]", "secret", true, false},
	DetectorAssignment:     {"assignment", "[SECRET]", "secret", true, false},
	DetectorCommandLine:    {"command_line", "[SECRET]", "secret", true, false},
	DetectorHighEntropy:    {"high_entropy", "[SECRET]", "secret", true, false},
	DetectorEmail:          {"email", "[EMAIL]", "email", false, false},
	DetectorCard:           {"card", "[CARD]", "card", false, false},
	DetectorIBAN:           {"iban", "[IBAN]", "iban", false, false},
	DetectorSSN:            {"ssn", "[SSN]", "ssn", false, false},
	DetectorPhone:          {"phone", "[PHONE]", "phone", false, false},
	DetectorIPv4:           {"ipv4", "[IP]", "ip", false, false},
	DetectorIPv6:           {"ipv6", "[IP]", "ip", false, false},
	DetectorHomeUser:       {"home_user", "[USER]", "user", false, false},
}

// builtinEntities are the entities of the built-in detectors (secret, email, …), which their
// pseudonyms start with.
var builtinEntities = func() map[string]bool {
	m := make(map[string]bool)
	for _, d := range detectorInfos {
		m[d.entity] = true
	}
	return m
}()

// builtinEntity reports whether name is the entity of a built-in detector.
func builtinEntity(name string) bool { return builtinEntities[name] }

// String returns the detector's policy name, e.g. "github_token", or "" for DetectorUnknown.
func (d Detector) String() string {
	if d < detectorCount {
		return detectorInfos[d].name
	}
	return ""
}

// Label returns the entity label that [ActionLabel] writes, e.g. "[EMAIL]".
func (d Detector) Label() string {
	if d < detectorCount {
		return detectorInfos[d].label
	}
	return detectorInfos[0].label
}

// IsSecret reports whether the detector finds credentials (as opposed to personal data).
func (d Detector) IsSecret() bool { return d < detectorCount && detectorInfos[d].secret }

// IsVendor reports whether the detector finds a vendor-prefixed secret.
func (d Detector) IsVendor() bool { return d < detectorCount && detectorInfos[d].vendor }

// Detectors returns every built-in detector in declaration order.
func Detectors() []Detector {
	out := make([]Detector, 0, detectorCount-1)
	for d := Detector(1); d < detectorCount; d++ {
		out = append(out, d)
	}
	return out
}

// ParseDetector maps a policy name ("email", "github_token", …; case-insensitive) to a
// Detector. It returns DetectorUnknown and false for names it does not know.
func ParseDetector(name string) (Detector, bool) {
	for d := Detector(1); d < detectorCount; d++ {
		if strings.EqualFold(detectorInfos[d].name, name) {
			return d, true
		}
	}
	return DetectorUnknown, false
}

// detectorSet is a bit set of detectors.
type detectorSet uint64

func (s detectorSet) has(d Detector) bool { return s&(1<<d) != 0 }

func setOf(ds ...Detector) detectorSet {
	var s detectorSet
	for _, d := range ds {
		s |= 1 << d
	}
	return s
}

const allDetectors = detectorSet(1<<detectorCount-1) &^ 1
