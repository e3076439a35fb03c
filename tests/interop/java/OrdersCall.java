// Calls soap_orders through the classes `wsimport` generates from the WSDL with its default options.
//
//   wsimport -keep -s src -d classes http://127.0.0.1:8000/soap?wsdl
//   javac -cp classes:/usr/share/java/jaxws-rt.jar -d classes OrdersCall.java
//   SOAP_ORDERS_CLIENT=demo SOAP_ORDERS_SECRET=... java -cp classes:/usr/share/java/jaxws-rt.jar \
//       OrdersCall http://127.0.0.1:8000/soap?wsdl wsdl/examples/GetOrder-request.xml ...
//
// Each argument after the WSDL address is a request envelope; its Body is read into the generated
// request class and the operation is called through the generated port with the typed arguments:
// written out below for the first operations, and for any other found by its @WebMethod declaration
// (its @WebParam names are the request's element names; OUT parameters are Holders), and for every
// operation with -Dorders.byDeclaration=true.
// One JSON line is printed per call: {"call": ..., "answer": {...}} or {"call": ..., "fault": {...}}.

import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.xml.bind.JAXBContext;
import javax.xml.bind.JAXBElement;
import javax.xml.bind.Unmarshaller;
import javax.xml.bind.annotation.XmlElement;
import javax.jws.WebMethod;
import javax.jws.WebParam;
import javax.jws.WebResult;
import javax.xml.datatype.XMLGregorianCalendar;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.Holder;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import orders.soap.orders.v1.CancelOrder;
import orders.soap.orders.v1.FaultDetail;
import orders.soap.orders.v1.FindOrdersByEmail;
import orders.soap.orders.v1.GetOrder;
import orders.soap.orders.v1.IssueRefund;
import orders.soap.orders.v1.ObjectFactory;
import orders.soap.orders.v1.Order;
import orders.soap.orders.v1.Orders;
import orders.soap.orders.v1.OrdersFault;
import orders.soap.orders.v1.OrdersService;
import orders.soap.orders.v1.OrdersService_Service;
import orders.soap.orders.v1.Outcome;
import orders.soap.orders.v1.ReasonCode;
import orders.soap.orders.v1.Refund;

public final class OrdersCall {
    private static final String SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/";

    public static void main(String[] args) throws Exception {
        OrdersService port = new OrdersService_Service(new URL(args[0])).getOrdersService();
        Map<String, Object> context = ((BindingProvider) port).getRequestContext();
        context.put(BindingProvider.USERNAME_PROPERTY, System.getenv("SOAP_ORDERS_CLIENT"));
        context.put(BindingProvider.PASSWORD_PROPERTY, System.getenv("SOAP_ORDERS_SECRET"));

        Unmarshaller reader = JAXBContext.newInstance(ObjectFactory.class).createUnmarshaller();
        for (int i = 1; i < args.length; i++) {
            Path example = Path.of(args[i]);
            String name = example.getFileName().toString().replace("-request.xml", "");
            Object request = ((JAXBElement<?>) reader.unmarshal(bodyElement(example))).getValue();
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("call", name);
            try {
                line.put("answer", call(port, request));
            } catch (OrdersFault fault) {
                FaultDetail detail = fault.getFaultInfo();
                Map<String, Object> read = new LinkedHashMap<>();
                read.put("ErrorCode", detail.getErrorCode());
                read.put("Message", detail.getMessage());
                read.put("Retryable", detail.isRetryable());
                line.put("fault", read);
            }
            System.out.println(json(line));
        }
    }

    /** One call through the generated port; the answer's members by their element names. */
    static Map<String, Object> call(OrdersService port, Object request) throws OrdersFault {
        Map<String, Object> answer = new LinkedHashMap<>();
        if (Boolean.getBoolean("orders.byDeclaration")) {
            return callDeclared(port, request);
        }
        if (request instanceof FindOrdersByEmail) {
            FindOrdersByEmail find = (FindOrdersByEmail) request;
            Holder<Orders> orders = new Holder<>();
            Holder<Integer> totalCount = new Holder<>();
            Holder<Integer> currentPage = new Holder<>();
            Holder<Integer> itemsPerPage = new Holder<>();
            Holder<Boolean> hasMore = new Holder<>();
            port.findOrdersByEmail(find.getEmail(), find.getStatus(), find.getPlacedFrom(), find.getPlacedTo(),
                    find.getPageSize(), find.getPageNumber(), orders, totalCount, currentPage, itemsPerPage, hasMore);
            answer.put("Orders", orders.value);
            answer.put("TotalCount", totalCount.value);
            answer.put("CurrentPage", currentPage.value);
            answer.put("ItemsPerPage", itemsPerPage.value);
            answer.put("HasMore", hasMore.value);
        } else if (request instanceof GetOrder) {
            GetOrder get = (GetOrder) request;
            answer.put("Order", port.getOrder(get.getOrderNumber(), get.getEmail()));
        } else if (request instanceof CancelOrder) {
            CancelOrder cancel = (CancelOrder) request;
            Holder<Outcome> outcome = new Holder<>();
            Holder<ReasonCode> reasonCode = new Holder<>();
            Holder<String> message = new Holder<>();
            Holder<Order> order = new Holder<>();
            port.cancelOrder(cancel.getOrderNumber(), cancel.getRequestId(), cancel.getReason(), cancel.getNote(),
                    outcome, reasonCode, message, order);
            answer.put("Outcome", outcome.value);
            answer.put("ReasonCode", reasonCode.value);
            answer.put("Message", message.value);
            answer.put("Order", order.value);
        } else if (request instanceof IssueRefund) {
            IssueRefund refund = (IssueRefund) request;
            Holder<Outcome> outcome = new Holder<>();
            Holder<ReasonCode> reasonCode = new Holder<>();
            Holder<String> message = new Holder<>();
            Holder<Refund> issued = new Holder<>();
            Holder<BigDecimal> refundableAmount = new Holder<>();
            Holder<Order> order = new Holder<>();
            port.issueRefund(refund.getOrderNumber(), refund.getRequestId(), refund.getReason(), refund.getAmount(),
                    refund.getLines(), refund.getNote(), outcome, reasonCode, message, issued, refundableAmount, order);
            answer.put("Outcome", outcome.value);
            answer.put("ReasonCode", reasonCode.value);
            answer.put("Message", message.value);
            answer.put("Refund", issued.value);
            answer.put("RefundableAmount", refundableAmount.value);
            answer.put("Order", order.value);
        } else {
            return callDeclared(port, request);
        }
        return answer;
    }

    /** Any operation, through the port method whose @WebMethod names the request's class. */
    static Map<String, Object> callDeclared(OrdersService port, Object request) throws OrdersFault {
        String operation = request.getClass().getSimpleName();
        for (Method method : OrdersService.class.getMethods()) {
            WebMethod declared = method.getAnnotation(WebMethod.class);
            if (declared == null || !declared.operationName().equals(operation)) {
                continue;
            }
            Object[] arguments = new Object[method.getParameterCount()];
            Map<String, Holder<Object>> outputs = new LinkedHashMap<>();
            Annotation[][] annotations = method.getParameterAnnotations();
            for (int i = 0; i < arguments.length; i++) {
                WebParam param = null;
                for (Annotation annotation : annotations[i]) {
                    if (annotation instanceof WebParam) {
                        param = (WebParam) annotation;
                    }
                }
                if (param != null && param.mode() == WebParam.Mode.OUT) {
                    Holder<Object> holder = new Holder<>();
                    outputs.put(param.name(), holder);
                    arguments[i] = holder;
                } else if (param != null) {
                    arguments[i] = element(request, param.name());
                }
            }
            Object result;
            try {
                result = method.invoke(port, arguments);
            } catch (InvocationTargetException failed) {
                if (failed.getCause() instanceof OrdersFault) {
                    throw (OrdersFault) failed.getCause();
                }
                throw new IllegalStateException(operation + " failed", failed.getCause());
            } catch (IllegalAccessException impossible) {
                throw new IllegalStateException(impossible);
            }
            Map<String, Object> answer = new LinkedHashMap<>();
            WebResult named = method.getAnnotation(WebResult.class);
            if (named != null) {
                answer.put(named.name(), result);
            }
            for (Map.Entry<String, Holder<Object>> output : outputs.entrySet()) {
                answer.put(output.getKey(), output.getValue().value);
            }
            return answer;
        }
        throw new IllegalArgumentException("the port has no operation " + operation);
    }

    /** The value of a request's element, by the element's name. */
    static Object element(Object request, String name) {
        for (Class<?> type = request.getClass(); type != Object.class; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                XmlElement element = field.getAnnotation(XmlElement.class);
                if (element != null && element.name().equals(name)) {
                    try {
                        return property(request, field);
                    } catch (Exception unreadable) {
                        throw new IllegalStateException(unreadable);
                    }
                }
            }
        }
        return null;
    }

    static Element bodyElement(Path envelope) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document document = factory.newDocumentBuilder().parse(envelope.toFile());
        Node body = document.getElementsByTagNameNS(SOAP_ENV, "Body").item(0);
        for (Node child = body.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child instanceof Element) {
                return (Element) child;
            }
        }
        throw new IllegalArgumentException(envelope + " has an empty Body");
    }

    /** JSON for what the generated classes hold: beans by their element names, enums by their values. */
    static String json(Object value) throws Exception {
        if (value == null) {
            return "null";
        }
        if (value instanceof String) {
            return quote((String) value);
        }
        if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
            return value.toString();
        }
        if (value instanceof BigDecimal) {
            return quote(((BigDecimal) value).toPlainString());
        }
        if (value instanceof XMLGregorianCalendar) {
            return quote(((XMLGregorianCalendar) value).toXMLFormat());
        }
        if (value instanceof Enum) {
            return quote((String) value.getClass().getMethod("value").invoke(value));
        }
        if (value instanceof Map) {
            List<String> members = new ArrayList<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                members.add(quote(entry.getKey().toString()) + ":" + json(entry.getValue()));
            }
            return "{" + String.join(",", members) + "}";
        }
        if (value instanceof List) {
            List<String> items = new ArrayList<>();
            for (Object item : (List<?>) value) {
                items.add(json(item));
            }
            return "[" + String.join(",", items) + "]";
        }
        Map<String, Object> bean = new LinkedHashMap<>();
        for (Class<?> type = value.getClass(); type != Object.class; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                XmlElement element = field.getAnnotation(XmlElement.class);
                if (element != null) {
                    bean.put(element.name(), property(value, field));
                }
            }
        }
        return json(bean);
    }

    /** A property as callers read it: through its getter (a list's getter never answers null). */
    static Object property(Object bean, Field field) throws Exception {
        String name = Character.toUpperCase(field.getName().charAt(0)) + field.getName().substring(1);
        for (String prefix : new String[] {"get", "is"}) {
            try {
                return bean.getClass().getMethod(prefix + name).invoke(bean);
            } catch (NoSuchMethodException notThisOne) {
                // try the next prefix
            }
        }
        field.setAccessible(true);
        return field.get(bean);
    }

    static String quote(String text) {
        StringBuilder quoted = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                quoted.append('\\').append(c);
            } else if (c < 0x20) {
                quoted.append(String.format("\\u%04x", (int) c));
            } else {
                quoted.append(c);
            }
        }
        return quoted.append('"').toString();
    }
}
