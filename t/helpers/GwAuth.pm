package GwAuth;

# Keys and tokens for the ngx_gw_auth tests, made at test time:
#
#   use FindBin; use lib "$FindBin::Bin/helpers"; use GwAuth;
#
# On load, makes RSA, EC (P-256, P-384, P-521) and Ed25519 key pairs with
# openssl and a JWKS file of their public halves in a temporary directory,
# exported as TEST_NGINX_AUTH_DIR:
#
#   rsa.pub rsa2.pub rsa1024.pub ec256.pub ec384.pub ec521.pub ed25519.pub
#   ed448.pub   hs.secret
#   jwks.json (kids "rsa", "ec256", "ed", "oct" (HS512), "enc" (use enc))
#   jwks-more.json (kids "ec384", "ec521", "ed448", "hs" (oct, no alg),
#                   "oaep" (an RSA-OAEP key, skipped))
#
# and TEST_NGINX_HS_SECRET (64 bytes, good for HS256/384/512).
#
# In a block, from an "eval" section (package Test::Base::Filter):
#
#   GwAuth::jwt('RS256', { sub => 'alice' })            exp = now + 1h
#   GwAuth::jwt('ES256', { sub => 'a' }, kid => 'ec256', key => 'ec256')
#   GwAuth::raw_hs('HS256', $header_json, $payload_json)  any JSON text
#   GwAuth::b64url($bytes)
#
# Asymmetric tokens are signed by /usr/bin/python3 with python3-jwt; HMAC
# tokens by Digest::SHA.
#
# GwAuth::idp_start() starts a small identity provider on 127.0.0.1 (port
# in TEST_NGINX_IDP_PORT), stopped when the test file ends:
#
#   GET  /jwks              the JWKS in idp-jwks.json (kid "rsa" at start)
#   GET  /rotate            from now on serve idp-jwks2.json (adds "ed")
#   POST /introspect        RFC 7662; answers from idp_token() entries,
#                           {"active":false} for others; 401 without the
#                           client credentials client:secret; 500 for
#                           the token "boom"
#   GET  /count/<name>      how many calls /jwks or /introspect had
#   GET  /sleep/<seconds>   answers after a while
#   GET  /reset             counts to 0, the first JWKS again

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512 sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use POSIX ();

my $dir = tempdir('gw-auth-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $secret = join '', map { chr(ord('a') + $_ % 26) } 0 .. 63;
my $json = JSON::PP->new->canonical;

my %default_key = (
    RS256 => 'rsa', RS384 => 'rsa', RS512 => 'rsa',
    PS256 => 'rsa', PS384 => 'rsa', PS512 => 'rsa',
    ES256 => 'ec256', ES384 => 'ec384', ES512 => 'ec521',
    EdDSA => 'ed25519',
);

$ENV{TEST_NGINX_AUTH_DIR} = $dir;
$ENV{TEST_NGINX_HS_SECRET} = $secret;

make_keys();


sub run {
    my (@cmd) = @_;
    system(@cmd) == 0 or die "GwAuth: @cmd failed\n";
}


sub make_keys {
    my %gen = (
        rsa => [qw(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)],
        rsa2 => [qw(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)],
        rsa1024 => [qw(-algorithm RSA -pkeyopt rsa_keygen_bits:1024)],
        ec256 => [qw(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)],
        ec384 => [qw(-algorithm EC -pkeyopt ec_paramgen_curve:P-384)],
        ec521 => [qw(-algorithm EC -pkeyopt ec_paramgen_curve:P-521)],
        ed25519 => [qw(-algorithm ed25519)],
        ed448 => [qw(-algorithm ed448)],
    );

    for my $name (sort keys %gen) {
        run('openssl', 'genpkey', @{ $gen{$name} }, '-out', "$dir/$name.key",
            '-quiet');
        run('openssl', 'pkey', '-in', "$dir/$name.key", '-pubout',
            '-out', "$dir/$name.pub");
    }

    open my $fh, '>', "$dir/hs.secret" or die;
    print $fh "$secret\n";
    close $fh;

    open $fh, '>', "$dir/mint.py" or die;
    print $fh <<'PY';
import json, sys, jwt
alg, keyfile, header, payload = sys.argv[1:5]
with open(keyfile, 'rb') as f:
    key = f.read()
print(jwt.encode(json.loads(payload), key, algorithm=alg,
                 headers=json.loads(header)))
PY
    close $fh;

    open $fh, '>', "$dir/jwks.py" or die;
    print $fh <<'PY';
import json, sys
from jwt.algorithms import RSAAlgorithm, ECAlgorithm, OKPAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key
d, secret = sys.argv[1:3]
only = sys.argv[3:]
def load(name):
    with open('%s/%s.pub' % (d, name), 'rb') as f:
        return load_pem_public_key(f.read())
keys = []
k = json.loads(RSAAlgorithm.to_jwk(load('rsa'))); k['kid'] = 'rsa'
k['alg'] = 'RS256'; k['use'] = 'sig'; keys.append(k)
k = json.loads(ECAlgorithm.to_jwk(load('ec256'))); k['kid'] = 'ec256'
keys.append(k)
k = json.loads(OKPAlgorithm.to_jwk(load('ed25519'))); k['kid'] = 'ed'
keys.append(k)
k = json.loads(RSAAlgorithm.to_jwk(load('rsa2'))); k['kid'] = 'enc'
k['use'] = 'enc'; keys.append(k)
import base64
k = {'kty': 'oct', 'kid': 'oct', 'alg': 'HS512',
     'k': base64.urlsafe_b64encode(secret.encode()).decode().rstrip('=')}
keys.append(k)
if only:
    keys = [k for k in keys if k['kid'] in only]
print(json.dumps({'keys': keys}))
PY
    close $fh;

    open $fh, '>', "$dir/jwks-more.py" or die;
    print $fh <<'PY';
import base64, json, sys
from jwt.algorithms import ECAlgorithm, OKPAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key
d, secret = sys.argv[1:3]
def load(name):
    with open('%s/%s.pub' % (d, name), 'rb') as f:
        return load_pem_public_key(f.read())
keys = []
for name, alg in (('ec384', None), ('ec521', 'ES512')):
    k = json.loads(ECAlgorithm.to_jwk(load(name))); k['kid'] = name
    if alg:
        k['alg'] = alg
    keys.append(k)
k = json.loads(OKPAlgorithm.to_jwk(load('ed448'))); k['kid'] = 'ed448'
keys.append(k)
keys.append({'kty': 'oct', 'kid': 'hs',
             'k': base64.urlsafe_b64encode(secret.encode()).decode()
                  .rstrip('=')})
keys.append({'kty': 'RSA', 'kid': 'oaep', 'alg': 'RSA-OAEP',
             'n': 'AQAB', 'e': 'AQAB'})
print(json.dumps({'keys': keys}))
PY
    close $fh;

    for my $name ('jwks', 'jwks-more') {
        my $out = `/usr/bin/python3 $dir/$name.py $dir $secret`;
        die "GwAuth: $name.py failed\n" if $?;
        open $fh, '>', "$dir/$name.json" or die;
        print $fh $out;
        close $fh;
    }
}


my $idp_pid;


sub idp_token {
    my ($token, $response) = @_;
    my $file = "$dir/idp-tokens.json";
    my $all = -e $file ? do {
        open my $fh, '<', $file or die;
        local $/;
        JSON::PP::decode_json(<$fh>);
    } : {};
    $all->{$token} = $response;
    open my $fh, '>', $file or die;
    print $fh JSON::PP::encode_json($all);
    close $fh;
}


sub idp_start {
    require GwTest;

    my $port = GwTest::free_port();
    $ENV{TEST_NGINX_IDP_PORT} = $port;

    open my $fh, '>', "$dir/idp.py" or die;
    print $fh <<'PY';
import json, os, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

d, port = sys.argv[1], int(sys.argv[2])
counts = {'jwks': 0, 'introspect': 0}
state = {'jwks': 'idp-jwks.json'}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body, ctype='application/json'):
        b = body.encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_GET(self):
        if self.path == '/jwks':
            counts['jwks'] += 1
            with open(os.path.join(d, state['jwks'])) as f:
                return self.send(200, f.read())
        if self.path == '/reset':
            counts['jwks'] = counts['introspect'] = 0
            state['jwks'] = 'idp-jwks.json'
            return self.send(200, 'reset\n', 'text/plain')
        if self.path == '/rotate':
            state['jwks'] = 'idp-jwks2.json'
            return self.send(200, 'rotated\n', 'text/plain')
        if self.path.startswith('/count/'):
            return self.send(200, '%d\n' % counts[self.path[7:]],
                             'text/plain')
        if self.path.startswith('/sleep/'):
            time.sleep(float(self.path[7:]))
            return self.send(200, 'slept\n', 'text/plain')
        self.send(404, '{}')

    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if self.path != '/introspect':
            return self.send(404, '{}')
        counts['introspect'] += 1
        if self.headers.get('Authorization') != 'Basic Y2xpZW50OnNlY3JldA==':
            return self.send(401, '{"error":"invalid_client"}')
        if self.headers.get('Content-Type') != \
                'application/x-www-form-urlencoded':
            return self.send(400, '{"error":"invalid_request"}')
        token = form.get('token', [''])[0]
        if token == 'boom':
            return self.send(500, 'oops', 'text/plain')
        tokens = {}
        p = os.path.join(d, 'idp-tokens.json')
        if os.path.exists(p):
            with open(p) as f:
                tokens = json.load(f)
        self.send(200, json.dumps(tokens.get(token, {'active': False})))

HTTPServer(('127.0.0.1', port), H).serve_forever()
PY
    close $fh;

    system("/usr/bin/python3 $dir/jwks.py $dir $secret rsa > $dir/idp-jwks.json") == 0
        or die "GwAuth: jwks.py failed\n";
    system("/usr/bin/python3 $dir/jwks.py $dir $secret rsa ed > $dir/idp-jwks2.json") == 0
        or die "GwAuth: jwks.py failed\n";

    $idp_pid = fork();
    die "fork: $!\n" unless defined $idp_pid;

    if ($idp_pid == 0) {
        { no warnings 'exec'; exec '/usr/bin/python3', "$dir/idp.py", $dir, $port; }
        POSIX::_exit(1);
    }

    GwTest::wait_port($port, 10) or die "GwAuth: the IdP did not start\n";

    return $port;
}


END {
    local $?;

    if ($idp_pid) {
        kill 'TERM', $idp_pid;
        waitpid($idp_pid, 0);
    }
}


sub b64url {
    my ($data) = @_;
    my $s = encode_base64($data, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}


sub raw_hs {
    my ($alg, $header, $payload, $key) = @_;
    my %mac = (HS256 => \&hmac_sha256, HS384 => \&hmac_sha384,
               HS512 => \&hmac_sha512);
    my $input = b64url($header) . '.' . b64url($payload);
    return $input . '.' . b64url($mac{$alg}->($input, $key // $secret));
}


sub jwt {
    my ($alg, $claims, %opt) = @_;

    my %claims = %{ $claims || {} };
    $claims{exp} //= time + 3600 unless $opt{no_exp};

    my %header = (alg => $alg, typ => 'JWT', %{ $opt{header} || {} });
    $header{kid} = $opt{kid} if defined $opt{kid};

    if ($alg =~ /^HS/) {
        return raw_hs($alg, $json->encode(\%header), $json->encode(\%claims),
                      $opt{secret});
    }

    my $key = "$dir/" . ($opt{key} // $default_key{$alg}) . ".key";
    delete $header{alg};

    open my $py, '-|', '/usr/bin/python3', "$dir/mint.py", $alg, $key,
        $json->encode(\%header), $json->encode(\%claims)
        or die "GwAuth: python3: $!\n";
    my $token = <$py>;
    close $py or die "GwAuth: mint.py failed\n";
    chomp $token;
    return $token;
}


# a key for scripts/gw-apikey-style files: returns (key, "sha256:<hex>")
sub apikey_hash {
    my ($key) = @_;
    return 'sha256:' . sha256_hex($key);
}


1;
