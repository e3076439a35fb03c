// Calls soap_orders with node's `soap` package (npm install soap), HTTP Basic as the client.
//
//   SOAP_ORDERS_CLIENT=demo SOAP_ORDERS_SECRET=... node call.js http://127.0.0.1:8000/soap?wsdl < calls.json
//
// calls.json is a list of {"name", "operation", "args"}; one JSON line is printed per call:
// {"call": ..., "answer": {...}} or {"call": ..., "fault": {...}} with the fault's typed detail.
'use strict';
const fs = require('fs');
const soap = require('soap');

async function main() {
  // Without the deserializer, soap turns an xs:date ("2026-03-03") into a Date at midnight UTC.
  const client = await soap.createClientAsync(process.argv[2], { customDeserializer: { date: (text) => text } });
  client.setSecurity(new soap.BasicAuthSecurity(process.env.SOAP_ORDERS_CLIENT, process.env.SOAP_ORDERS_SECRET));
  const calls = JSON.parse(fs.readFileSync(0, 'utf8'));
  for (const call of calls) {
    const line = { call: call.name };
    try {
      const [answer] = await client[call.operation + 'Async'](call.args);
      line.answer = answer;
    } catch (error) {
      const fault = error.root && error.root.Envelope && error.root.Envelope.Body.Fault;
      if (!fault) throw error;
      const { ErrorCode, Message, Retryable } = fault.detail.FaultDetail;
      // As README says: the detail's values are strings, and the string 'false' is truthy.
      line.fault = { faultcode: fault.faultcode, ErrorCode, Message, Retryable: Retryable === 'true' };
    }
    console.log(JSON.stringify(line));
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
