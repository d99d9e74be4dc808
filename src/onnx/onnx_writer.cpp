// src/onnx/onnx_writer.cpp — ctnet::onnx: an OnnxGraph as an ONNX ModelProto, with the system's ONNX classes.
//
// Requires: libonnx-dev's generated protobuf classes (onnx_proto, ONNX_ML=1) and libprotobuf. Guarantees:
// opset 17 of the default domain, IR version 8, every graph input and output FLOAT [N, dims...] with N a
// dim_param; initializers as float_data / int64_data (little-endian on any host, as protobuf encodes them);
// the file is written to PATH.tmp, synced and renamed over PATH, so PATH is the old file or the whole new
// one; a path that cannot be written throws ctnet::Error naming it before anything is serialised.
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <onnx/onnx_pb.h>

#include <ctnet/core/output_file.hpp>
#include <ctnet/export/onnx.hpp>
#include <ctnet/version.hpp>

namespace ctnet {

namespace {

void set_value(::onnx::ValueInfoProto& v, const OnnxValue& value) {
  v.set_name(value.name);
  ::onnx::TypeProto_Tensor* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  ::onnx::TensorShapeProto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (const std::int64_t d : value.dims) shape->add_dim()->set_dim_value(d);
}

void set_attribute(::onnx::AttributeProto& a, const OnnxAttribute& attribute) {
  a.set_name(attribute.name);
  switch (attribute.kind) {
    case OnnxAttribute::Kind::integer:
      a.set_type(::onnx::AttributeProto::INT);
      a.set_i(attribute.i);
      break;
    case OnnxAttribute::Kind::real:
      a.set_type(::onnx::AttributeProto::FLOAT);
      a.set_f(attribute.f);
      break;
    case OnnxAttribute::Kind::integers:
      a.set_type(::onnx::AttributeProto::INTS);
      for (const std::int64_t v : attribute.ints) a.add_ints(v);
      break;
  }
}

::onnx::ModelProto model_proto(const OnnxGraph& g) {
  ::onnx::ModelProto m;
  m.set_ir_version(onnx_ir_version);
  m.set_producer_name("ctnet");
  m.set_producer_version(CTNET_VERSION_STRING);
  ::onnx::OperatorSetIdProto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(onnx_opset);
  for (const auto& [key, value] : g.metadata) {
    ::onnx::StringStringEntryProto* p = m.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
  ::onnx::GraphProto* graph = m.mutable_graph();
  graph->set_name(g.name);
  for (const OnnxValue& v : g.inputs) set_value(*graph->add_input(), v);
  for (const OnnxValue& v : g.outputs) set_value(*graph->add_output(), v);
  for (const OnnxInitializer& init : g.initializers) {
    ::onnx::TensorProto* t = graph->add_initializer();
    t->set_name(init.name);
    for (const std::int64_t d : init.dims) t->add_dims(d);
    if (init.is_int64) {
      t->set_data_type(::onnx::TensorProto::INT64);
      for (const std::int64_t v : init.int64s) t->add_int64_data(v);
    } else {
      t->set_data_type(::onnx::TensorProto::FLOAT);
      t->mutable_float_data()->Add(init.floats.begin(), init.floats.end());
    }
  }
  for (const OnnxNode& n : g.nodes) {
    ::onnx::NodeProto* node = graph->add_node();
    node->set_op_type(n.op);
    node->set_name(n.name);
    for (const std::string& i : n.inputs) node->add_input(i);
    for (const std::string& o : n.outputs) node->add_output(o);
    for (const OnnxAttribute& a : n.attributes) set_attribute(*node->add_attribute(), a);
  }
  return m;
}

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw Error("export_onnx: cannot write '" + path + "': " + why);
}

std::string errno_text() { return std::error_code(errno, std::generic_category()).message(); }

}  // namespace

std::string onnx_model_bytes(const OnnxGraph& graph) {
  std::string bytes;
  if (!model_proto(graph).SerializeToString(&bytes)) throw Error("export_onnx: protobuf could not serialise the model");
  return bytes;
}

void write_onnx(const OnnxGraph& graph, const std::string& path) {
  const std::string tmp = path + ".tmp";
  for (const std::string& p : {path, tmp})
    if (const std::string problem = output_file_problem(p); !problem.empty())
      throw Error("export_onnx: " + problem);
  const std::string bytes = onnx_model_bytes(graph);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(path, "cannot open '" + tmp + "': " + errno_text());
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
                       ::fsync(::fileno(f)) == 0;
  const std::string write_error = errno_text();
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    fail(path, "writing '" + tmp + "' failed: " + write_error);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename '" + tmp + "' into place: " + ec.message());
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: the file itself is complete either way
    ::close(dir_fd);
  }
}

}  // namespace ctnet
