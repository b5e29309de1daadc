// csv: CSV with a header row, read through a field mapping by column name.
#include <vector>

#include "detail/csv_reader.hpp"
#include "detail/mapping.hpp"
#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

class CsvParser final : public ParserBase {
 public:
  CsvParser(Mapping mapping, std::size_t max_record_bytes)
      : mapping_(std::move(mapping)), max_record_bytes_(max_record_bytes) {}

  Result<void> Parse(ByteSource& source, EventSink& sink) override {
    CsvReader reader(source, max_record_bytes_, mapping_.delimiter);
    HIKESHI_TRY(const std::optional<CsvReader::Item> header, reader.Next());
    if (!header) return {};  // an empty feed
    if (!header->ok) {
      return Fail(
          Error::InvalidArgument(LinePrefix(header->line) + "the header row cannot be read: " + header->reason));
    }
    // slot -> column
    std::vector<std::size_t> columns(mapping_.field_names.size());
    for (std::size_t slot = 0; slot < columns.size(); ++slot) {
      const std::string& name = mapping_.field_names[slot];
      std::optional<std::size_t> found;
      for (std::size_t column = 0; column < header->fields.size() && !found; ++column) {
        if (Trim(header->fields[column]) == name) found = column;
      }
      if (!found) {
        return Fail(Error::InvalidArgument("the header (line " + std::to_string(header->line) + ") has no column '" +
                                           name + "', which the mapping names"));
      }
      columns[slot] = *found;
    }
    reader.ExpectColumns(header->fields.size());

    std::vector<FieldValue> values(columns.size());
    std::int64_t blank_lines = 0;
    for (;;) {
      HIKESHI_TRY(const std::optional<CsvReader::Item> item, reader.Next());
      for (; blank_lines < reader.blank_lines(); ++blank_lines) Skip();
      if (!item) return {};
      if (!item->ok) {
        HIKESHI_CHECK(Reject(sink, item->line, LinePrefix(item->line) + item->reason, item->raw));
        continue;
      }
      for (std::size_t slot = 0; slot < columns.size(); ++slot) {
        const std::string& text = item->fields[columns[slot]];
        values[slot] = FieldValue{!Trim(text).empty(), JsonKind::kString, text, {}};
      }
      HIKESHI_CHECK(EmitOrRejectRecord(sink, reader, *item, BuildMappedEvent(mapping_, values)));
    }
  }

 private:
  Mapping mapping_;
  std::size_t max_record_bytes_;
};

}  // namespace

Result<std::unique_ptr<FeedParser>> MakeCsvParser(const ParserOptions& options) {
  HIKESHI_TRY(Mapping mapping, ParseMapping(options.mapping_toml, true));
  return std::make_unique<CsvParser>(std::move(mapping), options.max_record_bytes);
}

}  // namespace hikeshi::intake::feed::detail
