// ndjson: JSON lines read through a field mapping.
#include <vector>

#include "detail/json_fields.hpp"
#include "detail/mapping.hpp"
#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

class NdjsonParser final : public ParserBase {
 public:
  NdjsonParser(Mapping mapping, JsonFieldSet fields, std::size_t max_record_bytes)
      : mapping_(std::move(mapping)),
        fields_(std::move(fields)),
        extractor_(fields_),
        record_(fields_.size()),
        values_(fields_.size()),
        max_record_bytes_(max_record_bytes) {}

  Result<void> Parse(ByteSource& source, EventSink& sink) override {
    return ForEachLine(source, sink, max_record_bytes_, [&](const LineReader::Line& line) -> Result<void> {
      if (auto error = extractor_.Extract(line.text, record_)) {
        return Reject(sink, line.number, LinePrefix(line.number) + *error, line.text);
      }
      for (std::size_t slot = 0; slot < values_.size(); ++slot) values_[slot] = record_.Get(slot);
      auto event = BuildMappedEvent(mapping_, values_);
      if (!event) return Reject(sink, line.number, LinePrefix(line.number) + event.error(), line.text);
      event->record = line.number;
      event->raw.assign(line.text);
      return Emit(sink, *std::move(event));
    });
  }

 private:
  Mapping mapping_;
  JsonFieldSet fields_;
  OndemandExtractor extractor_;
  JsonRecord record_;
  std::vector<FieldValue> values_;
  std::size_t max_record_bytes_;
};

}  // namespace

Result<std::unique_ptr<FeedParser>> MakeNdjsonParser(const ParserOptions& options) {
  HIKESHI_TRY(Mapping mapping, ParseMapping(options.mapping_toml, false));
  JsonFieldSet fields;
  // Added in slot order, so the field set's slots are the mapping's.
  for (const std::string& pointer : mapping.field_names) HIKESHI_CHECK(fields.Add(pointer));
  return std::make_unique<NdjsonParser>(std::move(mapping), std::move(fields), options.max_record_bytes);
}

}  // namespace hikeshi::intake::feed::detail
