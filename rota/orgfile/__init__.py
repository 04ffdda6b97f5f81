"""The organisation and rota file ("rota as code"): TOML text to `Organisation` and back.

Pure: text in, values out, no clock. `parse_org` collects every problem before it gives up,
each naming the entry and field (`team 'asker-bvt': field 'kommuner': unknown kommune
'askr'`), so a coordinator fixes a broken file in one pass and a load is all or nothing.
Times in the file are wall-clock in the organisation's timezone.

`values` holds the codecs of single values, `table` the reader of one table, `read` the
sections and their cross-references, `write` the way back. The overlap rule of coverage
lives beside the coverage model, in `rota.coverage`.
"""

from rota.orgfile.read import parse_org, parse_org_data, read_org
from rota.orgfile.table import OrgError, OrgFileError
from rota.orgfile.write import dump_org

__all__ = ["OrgError", "OrgFileError", "dump_org", "parse_org", "parse_org_data", "read_org"]
