<?php
// Calls soap_orders with PHP's SoapClient (ext-soap) in WSDL mode, HTTP Basic as the client.
//
//   SOAP_ORDERS_CLIENT=demo SOAP_ORDERS_SECRET=... php call.php http://127.0.0.1:8000/soap?wsdl < calls.json
//
// calls.json is a list of {"name", "operation", "args"}; one JSON line is printed per call:
// {"call": ..., "answer": {...}} (a search adds "orders", the order numbers read as README shows)
// or {"call": ..., "fault": {...}} with the fault's detail.
// SoapClient does not type a fault's detail: Retryable is the string "false" or "true", and the
// string "false" is true in PHP, so it is read with filter_var(..., FILTER_VALIDATE_BOOLEAN).

ini_set('default_socket_timeout', '30');  // reading the WSDL and each answer
$client = new SoapClient($argv[1], [
    'login' => getenv('SOAP_ORDERS_CLIENT'), 'password' => getenv('SOAP_ORDERS_SECRET'),  // HTTP Basic
    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,  // one order is still an array
    'cache_wsdl' => WSDL_CACHE_NONE,
    'exceptions' => true,
    'connection_timeout' => 10,
]);

// SoapClient writes an xs:boolean from PHP's truth of the value, so the string "false" would be sent
// as true: the calls' values (text, as in the request envelopes) become PHP booleans wherever the
// WSDL declares xs:boolean, found through the types SoapClient lists.
$structs = [];
$simple = [];
foreach ($client->__getTypes() as $declaration) {
    if (preg_match('/^struct (\w+) \{(.*)\}$/s', $declaration, $struct)) {
        preg_match_all('/^\s*(\w+) (\w+);$/m', $struct[2], $fields, PREG_SET_ORDER);
        foreach ($fields as [, $type, $name]) {
            $structs[$struct[1]][$name] = $type;
        }
    } elseif (preg_match('/^(\w+) (\w+)$/', $declaration, $alias)) {
        $simple[$alias[2]] = $alias[1];
    }
}

function typed($value, ?string $type, array $structs, array $simple) {
    if ($type !== null && ($simple[$type] ?? $type) === 'boolean') {
        return filter_var($value, FILTER_VALIDATE_BOOLEAN);
    }
    if (!is_array($value) || !isset($structs[$type])) {
        return $value;
    }
    if (array_is_list($value)) {  // a repeated element
        return array_map(fn ($item) => typed($item, $type, $structs, $simple), $value);
    }
    $typed = [];
    foreach ($value as $name => $item) {
        $typed[$name] = typed($item, $structs[$type][$name] ?? null, $structs, $simple);
    }
    return $typed;
}

$calls = json_decode(file_get_contents('php://stdin'), true, 512, JSON_THROW_ON_ERROR);
foreach ($calls as $call) {
    $line = ['call' => $call['name']];
    try {
        $arguments = typed($call['args'], $call['operation'], $structs, $simple);
        $answer = $client->__soapCall($call['operation'], [$arguments]);
        $line['answer'] = $answer;
        if ($call['operation'] === 'FindOrdersByEmail') {  // the README's idiom for a list that may be empty
            $line['orders'] = [];
            foreach ($answer->Orders->Order ?? [] as $order) {
                $line['orders'][] = $order->OrderNumber;
            }
        }
    } catch (SoapFault $fault) {
        if (!isset($fault->detail->FaultDetail)) {
            throw $fault;
        }
        $detail = $fault->detail->FaultDetail;
        $line['fault'] = [
            'faultcode' => $fault->faultcode,
            'ErrorCode' => $detail->ErrorCode,
            'Message' => $detail->Message,
            'Retryable' => filter_var($detail->Retryable, FILTER_VALIDATE_BOOLEAN),  // not (bool) "false", which is true
        ];
    }
    echo json_encode($line, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}
