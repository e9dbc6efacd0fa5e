<?php
// PHP oracle for kartra_async/_form.py: what http_build_query() builds and parse_str() reads.
//
//   php tests/golden/php_form.php regen [DIR]  rewrite the golden files under DIR (default: here)
//   php tests/golden/php_form.php batch        JSON lines on stdin -> JSON lines on stdout
//
// regen: for every build/NAME.json (a JSON object = the nested PHP array) it writes
// build/NAME.query (http_build_query output, no newline) and build/NAME.parsed.json (parse_str
// of that output); for every parse/NAME.query (a raw body) it writes parse/NAME.parsed.json.
// batch: each input line is {"build": object}, {"parse": string} or {"parse_b64": base64
// of raw bytes}; each output line is
// {"query": string|null, "parsed": typed}.
//
// "typed" keeps what JSON would lose: a PHP array becomes a list of [key, value] pairs in PHP
// order, the key an int or a string exactly as PHP holds it; a string stays a string, unless
// it is not valid UTF-8: then it becomes {"b64": base64 of its bytes}, so nothing is lost.

error_reporting(E_ALL & ~E_WARNING);  // parse_str warns on purpose for the hostile cases

const FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES;

function typed(mixed $value): mixed
{
    if (is_string($value)) {
        return preg_match('//u', $value) ? $value : ['b64' => base64_encode($value)];
    }
    if (!is_array($value)) {
        return $value;
    }
    $pairs = [];
    foreach ($value as $key => $item) {
        $pairs[] = [typed($key), typed($item)];
    }
    return $pairs;
}

function parsed(string $query): array
{
    parse_str($query, $out);
    return typed($out);
}

function regen(string $dir): void
{
    foreach (glob("$dir/build/*.json") as $case) {
        if (str_ends_with($case, '.parsed.json')) {
            continue;
        }
        $data = json_decode(file_get_contents($case), true, 512, JSON_THROW_ON_ERROR);
        $query = http_build_query($data);
        $stem = substr($case, 0, -strlen('.json'));
        file_put_contents("$stem.query", $query);
        file_put_contents("$stem.parsed.json", json_encode(parsed($query), FLAGS) . "\n");
    }
    foreach (glob("$dir/parse/*.query") as $case) {
        $stem = substr($case, 0, -strlen('.query'));
        file_put_contents("$stem.parsed.json", json_encode(parsed(file_get_contents($case)), FLAGS) . "\n");
    }
}

function batch(): void
{
    while (($line = fgets(STDIN)) !== false) {
        $job = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
        if (array_key_exists('build', $job)) {
            $query = http_build_query($job['build']);
            $out = ['query' => $query, 'parsed' => parsed($query)];
        } else {
            $body = array_key_exists('parse_b64', $job) ? base64_decode($job['parse_b64']) : $job['parse'];
            $out = ['query' => null, 'parsed' => parsed($body)];
        }
        echo json_encode($out, FLAGS), "\n";
    }
}

match ($argv[1] ?? '') {
    'regen' => regen($argv[2] ?? __DIR__),
    'batch' => batch(),
    default => fwrite(STDERR, "usage: php php_form.php regen [DIR] | batch\n") && exit(2),
};
