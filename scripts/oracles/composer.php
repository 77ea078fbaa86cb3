<?php
// Composer (Packagist) versions: composer/semver 3 from Debian's php-composer-semver.
// Input lines on stdin:
//   norm<TAB>v      -> VersionParser::normalize(v), E if it throws
//   cmp<TAB>a<TAB>b -> normalize both (E if either throws), then Comparator:
//                      -1 / 0 / 1, or N when none of <, ==, > holds (two branches)
//   vc<TAB>a<TAB>b  -> version_compare(a, b) on the raw strings
require '/usr/share/php/Composer/Semver/autoload.php';

use Composer\Semver\Comparator;
use Composer\Semver\VersionParser;

$parser = new VersionParser();
$norm = function ($v) use ($parser) {
    try {
        return $parser->normalize($v);
    } catch (\UnexpectedValueException $e) {
        return null;
    }
};
$out = [];
while (($line = fgets(STDIN)) !== false) {
    $p = explode("\t", rtrim($line, "\n"));
    switch ($p[0]) {
        case 'norm':
            $n = $norm($p[1]);
            $out[] = $n === null ? 'E' : $n;
            break;
        case 'cmp':
            $a = $norm($p[1]);
            $b = $norm($p[2]);
            if ($a === null || $b === null) {
                $out[] = 'E';
            } elseif (Comparator::lessThan($a, $b)) {
                $out[] = '-1';
            } elseif (Comparator::equalTo($a, $b)) {
                $out[] = '0';
            } elseif (Comparator::greaterThan($a, $b)) {
                $out[] = '1';
            } else {
                $out[] = 'N';
            }
            break;
        case 'vc':
            $out[] = (string) version_compare($p[1], $p[2]);
            break;
        default:
            $out[] = 'E';
    }
}
echo implode('', array_map(fn ($l) => $l . "\n", $out));
