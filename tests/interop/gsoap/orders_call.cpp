// Calls soap_orders through the client gSOAP generates from the WSDL with its default options.
//
//   wsdl2h -o orders.h http://127.0.0.1:8000/soap?wsdl
//   soapcpp2 -C -L -I/usr/share/gsoap/import orders.h     # -C: the client side only; -L: no library stubs
//   g++ -o orders_call orders_call.cpp soapC.cpp soapClient.cpp -lgsoap++
//   SOAP_ORDERS_CLIENT=demo SOAP_ORDERS_SECRET=... ./orders_call http://127.0.0.1:8000/soap \
//       GetOrder wsdl/examples/GetOrder-request.xml ...
//
// The arguments after the endpoint are pairs: an operation's name and a request envelope. The
// envelope's Body is read into the generated request class (ns1__GetOrder) and the operation is
// called with the generated function (soap_call___ns1__GetOrder), with HTTP Basic credentials.
// operations.h lists the operations (one ORDERS_OPERATION(Name) line each), so the program makes
// every call of the contract it is compiled against.
//
// One JSON line is printed per call: {"call": ..., "answer": "<ns1:...Response>"} holding the
// answer object as the generated serializer writes it back out (every member gSOAP read), or
// {"call": ..., "fault": {"faultcode", "ErrorCode", "Message", "Retryable"}} read from the typed
// detail (SOAP_ENV__Detail::ns1__FaultDetail_). A search also prints the order numbers it read
// through the typed members ("orders": [...]).

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "soapH.h"
#include "OrdersService.nsmap"

namespace {

std::string quote(const std::string &text) {
    std::string quoted = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            quoted += '\\';
            quoted += static_cast<char>(c);
        } else if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            quoted += escaped;
        } else {
            quoted += static_cast<char>(c);
        }
    }
    return quoted + "\"";
}

std::string text(const char *value) { return value == nullptr ? std::string() : std::string(value); }

// A context for each role: reading request envelopes, calling, and writing answers out.
struct soap *context() {
    struct soap *soap = soap_new1(SOAP_C_UTFSTRING);  // strings hold UTF-8 (the default is Latin-1)
    soap_set_namespaces(soap, namespaces);
    soap->connect_timeout = 10;
    soap->send_timeout = 30;
    soap->recv_timeout = 30;
    return soap;
}

// HTTP Basic credentials for the next call (gSOAP forgets them after each call).
struct soap *authenticated(struct soap *soap) {
    soap->userid = std::getenv("SOAP_ORDERS_CLIENT");
    soap->passwd = std::getenv("SOAP_ORDERS_SECRET");
    return soap;
}

// The Body's operation element of the envelope in `path`, read into `request` (a generated class).
template <class Request>
void read_request(struct soap *soap, const std::string &path, Request &request, const char *tag) {
    std::ifstream file(path, std::ios::binary);
    soap->is = &file;
    request.soap_default(soap);
    if (soap_begin_recv(soap) || soap_envelope_begin_in(soap) || soap_recv_header(soap) || soap_body_begin_in(soap)
        || request.soap_get(soap, tag, nullptr) == nullptr || soap_body_end_in(soap) || soap_envelope_end_in(soap)
        || soap_end_recv(soap)) {
        soap_print_fault(soap, stderr);
        std::cerr << "cannot read " << path << std::endl;
        std::exit(2);
    }
    soap->is = nullptr;
}

// The line for a call that failed: the typed fault detail, or the end of the program.
std::string fault_line(struct soap *soap, const std::string &call) {
    const SOAP_ENV__Fault *fault = soap->fault;
    const ns1__FaultDetail *detail = fault != nullptr && fault->detail != nullptr ? fault->detail->ns1__FaultDetail_ : nullptr;
    if (detail == nullptr) {
        soap_print_fault(soap, stderr);
        std::cerr << call << " failed without a typed fault detail" << std::endl;
        std::exit(3);
    }
    return "{\"call\":" + quote(call) + ",\"fault\":{\"faultcode\":" + quote(text(fault->faultcode))
        + ",\"ErrorCode\":" + quote(detail->ErrorCode) + ",\"Message\":" + quote(detail->Message)
        + ",\"Retryable\":" + (detail->Retryable ? "true" : "false") + "}}";
}

// What a search read through the generated members: an empty <Orders/> is an Orders with no Order.
std::string typed_read(const ns1__FindOrdersByEmailResponse &page) {
    std::string numbers;
    for (const ns1__Order *order : page.Orders != nullptr ? page.Orders->Order : std::vector<ns1__Order *>()) {
        numbers += (numbers.empty() ? "" : ",") + quote(order->OrderNumber);
    }
    return ",\"orders\":[" + numbers + "]";
}

template <class Response>
std::string typed_read(const Response &) { return ""; }

// The line for an answer: the answer object written back out by its generated serializer.
template <class Response>
std::string answer_line(struct soap *out, const std::string &call, const Response &response, const char *tag) {
    std::ostringstream xml;
    out->os = &xml;
    if (soap_begin_send(out) || (response.soap_serialize(out), 0) || response.soap_put(out, tag, nullptr)
        || soap_end_send(out)) {
        soap_print_fault(out, stderr);
        std::exit(4);
    }
    out->os = nullptr;
    return "{\"call\":" + quote(call) + ",\"answer\":" + quote(xml.str()) + typed_read(response) + "}";
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2 || argc % 2 != 0) {
        std::cerr << "usage: orders_call ENDPOINT [OPERATION REQUEST-ENVELOPE]..." << std::endl;
        return 1;
    }
    const char *endpoint = argv[1];
    struct soap *in = context();
    struct soap *client = context();
    struct soap *out = context();
    for (int i = 2; i < argc; i += 2) {
        const std::string operation = argv[i], path = argv[i + 1];
        std::string call = path.substr(path.find_last_of('/') + 1);
        call = call.substr(0, call.rfind("-request.xml"));
        std::string line;
#define ORDERS_OPERATION(NAME)                                                                    \
        if (operation == #NAME) {                                                                 \
            ns1__##NAME request;                                                                  \
            ns1__##NAME##Response response;                                                       \
            read_request(in, path, request, "ns1:" #NAME);                                        \
            if (soap_call___ns1__##NAME(authenticated(client), endpoint, nullptr, &request, response) == SOAP_OK) \
                line = answer_line(out, call, response, "ns1:" #NAME "Response");                 \
            else                                                                                  \
                line = fault_line(client, call);                                                  \
        }
#include "operations.h"
#undef ORDERS_OPERATION
        if (line.empty()) {
            std::cerr << "this client has no operation " << operation << std::endl;
            return 5;
        }
        std::cout << line << std::endl;
        soap_destroy(in);
        soap_end(in);
        soap_destroy(client);
        soap_end(client);
    }
    for (struct soap *soap : {in, client, out}) {
        soap_destroy(soap);
        soap_end(soap);
        soap_free(soap);
    }
    return 0;
}
