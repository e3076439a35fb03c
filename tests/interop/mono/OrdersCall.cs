// Calls soap_orders through the proxy Mono's `wsdl` tool generates from the WSDL with its default options.
//
//   wsdl -out:OrdersService.cs http://127.0.0.1:8000/soap?wsdl
//   mcs -out:OrdersCall.exe -r:System.Web.Services OrdersService.cs OrdersCall.cs
//   SOAP_ORDERS_CLIENT=demo SOAP_ORDERS_SECRET=... mono OrdersCall.exe http://127.0.0.1:8000/soap \
//       wsdl/examples/GetOrder-request.xml ...
//
// Each argument after the endpoint is a request envelope. Its Body's operation element is read
// into the generated request class (GetOrder) and the proxy's method of the same name is called
// with it; the proxy sends the credentials when the service challenges it (HTTP 401).
//
// One JSON line is printed per call: {"call": ..., "answer": "<...Response>"} holding the answer
// object as the XmlSerializer writes it back out (every member the proxy read, those holding their
// schema default too; a search adds "orders": the order numbers read through the typed members), or
// {"call": ..., "fault": {"faultcode", "ErrorCode", "Message", "Retryable"}} read from the
// SoapException's detail. The detail is plain XML to the proxy, so Retryable is the text "false"
// or "true" (a non-empty string, true in a condition): it is read with XmlConvert.ToBoolean.

using System;
using System.IO;
using System.Net;
using System.Reflection;
using System.Text;
using System.Web.Services.Protocols;
using System.Xml;
using System.Xml.Serialization;

public static class OrdersCall
{
    const string Tns = "urn:soap-orders:orders:v1";
    const string SoapEnv = "http://schemas.xmlsoap.org/soap/envelope/";

    public static int Main(string[] args)
    {
        var service = new OrdersService();
        service.Url = args[0];
        service.Timeout = 30000;
        service.Credentials = new NetworkCredential(
            Environment.GetEnvironmentVariable("SOAP_ORDERS_CLIENT"), Environment.GetEnvironmentVariable("SOAP_ORDERS_SECRET"));
        for (int i = 1; i < args.Length; i++)
        {
            string name = Path.GetFileName(args[i]).Replace("-request.xml", "");
            XmlElement request = BodyElement(args[i]);
            MethodInfo method = typeof(OrdersService).GetMethod(request.LocalName);
            if (method == null)
            {
                Console.Error.WriteLine("the proxy has no operation " + request.LocalName);
                return 2;
            }
            Type requestType = method.GetParameters()[0].ParameterType;
            object argument = new XmlSerializer(requestType, new XmlRootAttribute(request.LocalName) { Namespace = Tns })
                .Deserialize(new XmlNodeReader(request));
            string line;
            try
            {
                object answer = method.Invoke(service, new[] { argument });
                line = "{\"call\":" + Quote(name) + ",\"answer\":" + Quote(Written(answer, method.ReturnType, request.LocalName + "Response"))
                    + TypedRead(answer) + "}";
            }
            catch (TargetInvocationException failed) when (failed.InnerException is SoapException)
            {
                var fault = (SoapException)failed.InnerException;
                XmlNode detail = fault.Detail["FaultDetail", Tns];
                bool retryable = XmlConvert.ToBoolean(detail["Retryable", Tns].InnerText);  // the text "false" is not false
                line = "{\"call\":" + Quote(name) + ",\"fault\":{\"faultcode\":" + Quote(fault.Code.Name)
                    + ",\"ErrorCode\":" + Quote(detail["ErrorCode", Tns].InnerText)
                    + ",\"Message\":" + Quote(detail["Message", Tns].InnerText)
                    + ",\"Retryable\":" + (retryable ? "true" : "false") + "}}";
            }
            Console.WriteLine(line);
        }
        return 0;
    }

    /// <summary>What a search read through the generated members: ,"orders": [its order numbers]
    /// (null when the proxy gave no array).</summary>
    static string TypedRead(object answer)
    {
        if (!(answer is FindOrdersByEmailResponse page))
        {
            return "";
        }
        if (page.Orders == null)
        {
            return ",\"orders\":null";
        }
        var numbers = new StringBuilder();
        foreach (Order order in page.Orders)
        {
            numbers.Append(numbers.Length == 0 ? "" : ",").Append(Quote(order.OrderNumber));
        }
        return ",\"orders\":[" + numbers + "]";
    }

    static XmlElement BodyElement(string path)
    {
        var document = new XmlDocument { XmlResolver = null };
        document.Load(path);
        XmlNode body = document.DocumentElement["Body", SoapEnv];
        foreach (XmlNode child in body.ChildNodes)
        {
            if (child is XmlElement element)
            {
                return element;
            }
        }
        throw new ArgumentException(path + " has an empty Body");
    }

    static string Written(object value, Type type, string element)
    {
        var text = new StringWriter();
        using (XmlWriter writer = XmlWriter.Create(text, new XmlWriterSettings { OmitXmlDeclaration = true }))
        {
            new XmlSerializer(type, AllValues(), new Type[0], new XmlRootAttribute(element) { Namespace = Tns }, Tns)
                .Serialize(writer, value);
        }
        return text.ToString();
    }

    /// <summary>The generated classes' XML mapping, but writing out members that hold their schema
    /// default too (the serializer leaves them out; QuantityReplaced holds "0" all the same).</summary>
    static XmlAttributeOverrides AllValues()
    {
        var overrides = new XmlAttributeOverrides();
        foreach (Type type in typeof(OrdersService).Assembly.GetTypes())
        {
            foreach (PropertyInfo property in type.GetProperties())
            {
                if (property.IsDefined(typeof(System.ComponentModel.DefaultValueAttribute), false))
                {
                    overrides.Add(type, property.Name, new XmlAttributes(property) { XmlDefaultValue = null });
                }
            }
        }
        return overrides;
    }

    static string Quote(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (char c in text)
        {
            if (c == '"' || c == '\\')
            {
                quoted.Append('\\').Append(c);
            }
            else if (c < 0x20)
            {
                quoted.AppendFormat("\\u{0:x4}", (int)c);
            }
            else
            {
                quoted.Append(c);
            }
        }
        return quoted.Append('"').ToString();
    }
}
