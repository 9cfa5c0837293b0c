-- Read every record of one delimited export strictly (header rows too), every field as text, in file order; any structural fault raises; $quote and $escape empty read fields unquoted.
SELECT *
FROM read_csv(
    $path,
    columns = $columns,
    header = false,
    auto_detect = false,
    delim = $delimiter,
    quote = $quote,
    escape = $escape,
    strict_mode = true,
    null_padding = false,
    encoding = 'utf-8'
)
