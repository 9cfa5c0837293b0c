-- Read every record of one delimited export strictly (header rows too), every field as text, in file order; any structural fault raises.
SELECT *
FROM read_csv(
    $path,
    columns = $columns,
    header = false,
    auto_detect = false,
    delim = $delimiter,
    quote = '"',
    escape = '"',
    strict_mode = true,
    null_padding = false,
    encoding = 'utf-8'
)
