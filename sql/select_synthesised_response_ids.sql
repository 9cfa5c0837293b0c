-- Give responses of an export without response ids a stable one: the source prefix and the md5 of all their answers.
SELECT source_row, $prefix || md5(_identity) AS response_id
FROM identity_rows
